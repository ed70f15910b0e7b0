//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// main explains how to build the tester when it is built for a native
// platform (which only happens through `go build ./...` or `go vet ./...`).
func main() {
	fmt.Fprintln(os.Stderr, "tester: build with GOOS=js GOARCH=wasm (make wasm)")
	os.Exit(2)
}
