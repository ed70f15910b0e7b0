// Package cluster holds process-level tests of `idpkit serve`: the idpkit
// binary is built once per run and started as real processes, several on
// one PostgreSQL database behind a request-by-request balancer, killed
// with SIGKILL in the middle of writes and restarted, and stopped with
// SIGTERM while a request is running. The package has no code of its own;
// see the _test.go files.
//
// The PostgreSQL tests take the server from IDPKIT_TEST_POSTGRES (default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable) and give each
// test its own schema; under CI=true an unreachable server fails them.
package cluster
