# Gatehouse: one static binary on a small image, run as an unprivileged user.
#   docker build -t gatehouse .
#   docker run -e DATABASE_URL=... -e GATEHOUSE_SECRET_KEY=... -e GATEHOUSE_ISSUER=... -p 8080:8080 gatehouse
# docs/deployment.md lists the environment; `gatehouse serve --help` too.

FROM golang:1.26-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/gatehouse ./cmd/gatehouse

# Alpine rather than distroless: the shell lets docker-compose.yml seed the
# sample app with the gatehouse command line, and wget serves health checks.
FROM alpine:3.22
RUN apk add --no-cache ca-certificates tzdata \
 && addgroup -S -g 10001 gatehouse \
 && adduser -S -D -H -u 10001 -G gatehouse -s /sbin/nologin gatehouse
COPY --from=build /out/gatehouse /usr/local/bin/gatehouse
USER 10001:10001
ENV GATEHOUSE_ADDR=:8080
EXPOSE 8080
ENTRYPOINT ["gatehouse"]
CMD ["serve"]
