# idpkit — `make test` runs every test; it installs Chromium (and PostgreSQL
# when nothing answers on 127.0.0.1:5432) with apt-get when they are missing.
GO      ?= go
WASMOUT := wasm/dist/dialog.wasm
# Packages that must keep building for the browser (GOOS=js GOARCH=wasm).
WASM_PKGS := ./scim ./scim/adminapi ./scim/client ./suites/check ./suites/check/casefile ./wasm/connect/... ./wasm/dialog/... ./wasm/tester/...

.PHONY: all build test vet deps wasm-check bench fuzz fuzz-short clean

all: build

build: wasm
	$(GO) build -o bin/idpkit ./cmd/idpkit

# The dialog's wasm binary is committed so `go run ./cmd/idpkit` works on a
# fresh clone; `make wasm` rebuilds it reproducibly (same source, same bytes).
include wasm/wasm.mk

deps:
	./scripts/ensure-chromium.sh
	./scripts/ensure-node.sh
	./scripts/ensure-postgres.sh

vet:
	test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet $(WASM_PKGS)

# wasm-check builds the dialog and the tester and fails when a committed binary differs,
# so the binary the server embeds is always the one its source makes.
wasm-check:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	GOOS=js GOARCH=wasm $(GO) build -trimpath -buildvcs=false -ldflags="-s -w -buildid=" -o "$$tmp/dialog.wasm" ./wasm/dialog && \
	GOOS=js GOARCH=wasm $(GO) build -trimpath -buildvcs=false -ldflags="-s -w -buildid=" -o "$$tmp/tester.wasm" ./wasm/tester && \
	cmp -s "$$tmp/dialog.wasm" $(WASMOUT) && cmp -s "$$tmp/tester.wasm" wasm/dist/tester.wasm && cmp -s "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" wasm/dist/wasm_exec.js || \
	{ echo "wasm/dist is stale: run 'make wasm' and commit wasm/dist"; exit 1; }

test: deps wasm-check vet
	$(GO) test -count=1 -timeout 15m ./...
	$(MAKE) --no-print-directory fuzz-short

# Every fuzzer, as package:Target. `make test` runs each for FUZZTIME on
# top of its seed corpus (testdata/fuzz/<Target>/ in each package), so a
# parser or engine that panics on new input fails the build. scripts/fuzz-one.sh
# runs a fuzzer once more only after a bare fuzztime-deadline failure of Go 1.26's
# coordinator (golang/go#75804), never after a failing input.
FUZZ_TARGETS := ./scim/filter:FuzzParse ./scim/filter:FuzzParsePath ./scim/patch:FuzzApply \
	./scim/schema:FuzzNormalize ./scim/server:FuzzHandler ./scim/server:FuzzPatch ./scim/server:FuzzBulk \
	./mockidp:FuzzLoadSeed ./mockidp:FuzzControls ./mockidp/provision:FuzzParseRetryAfter \
	./mockidp/op:FuzzToken ./mockidp/op:FuzzAuthorize ./scim/login:FuzzKeySet ./scim/activity:FuzzActivity
FUZZTIME ?= 5s

fuzz-short:
	@for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; \
	  echo "fuzz $$fn in $$pkg for $(FUZZTIME)"; \
	  ./scripts/fuzz-one.sh $(GO) $$pkg $$fn $(FUZZTIME) || exit 1; done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./scim/... ./mockidp/...

fuzz:
	$(MAKE) --no-print-directory fuzz-short FUZZTIME=60s

clean:
	rm -rf bin
