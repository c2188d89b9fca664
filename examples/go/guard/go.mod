module github.com/warden-rpc/warden/examples/go/guard

go 1.24

require github.com/warden-rpc/warden/sdk/go v0.0.0

replace github.com/warden-rpc/warden/sdk/go => ../../../sdk/go
