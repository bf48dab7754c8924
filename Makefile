.PHONY: dev test fuzz build clean

# A fresh machine has Go in /usr/local/go without it being on PATH.
export PATH := $(PATH):/usr/local/go/bin

dev:
	bash scripts/dev.sh

test:
	bash scripts/test.sh

fuzz:
	go run ./cmd/withpostgres -- bash scripts/fuzz.sh $${FUZZTIME:-5m}

build:
	go build -trimpath -o bin/gatehouse ./cmd/gatehouse

clean:
	rm -rf bin
