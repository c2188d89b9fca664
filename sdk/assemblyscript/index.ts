// The package entry: `import { ... } from "warden-sdk"`. See assembly/index.ts.
export * from "./assembly/index";
