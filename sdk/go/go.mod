module github.com/warden-rpc/warden/sdk/go

go 1.24
