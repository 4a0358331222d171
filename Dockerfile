# wlns: one static binary in an empty image.
#
#   docker build -t wlns .
#   docker run -d --name wlns -v wlns-data:/var/lib/wlns \
#     -p 53:5300/udp -p 53:5300/tcp -p 127.0.0.1:8053:8053 wlns
#
# Every flag of `wlns serve` is also an environment variable (WLNS_*), so a
# node is configured with `-e` or an env file; see README.md and
# docs/cluster.md. The image runs as an unprivileged user and listens on
# unprivileged ports; map them to 53 (DNS), 25 (inbound SMTP) as needed.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/wlns ./cmd/wlns \
 && mkdir -p /out/data

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/
COPY --from=build /out/wlns /wlns
COPY --from=build --chown=65532:65532 /out/data /var/lib/wlns
USER 65532:65532
ENV WLNS_DATA=/var/lib/wlns \
    WLNS_DNS=0.0.0.0:5300 \
    WLNS_HTTP=0.0.0.0:8053 \
    WLNS_RAFT=0.0.0.0:8300 \
    WLNS_LOG_FORMAT=json
VOLUME /var/lib/wlns
EXPOSE 5300/udp 5300/tcp 8053/tcp 8300/tcp 2525/tcp
ENTRYPOINT ["/wlns"]
CMD ["serve"]
