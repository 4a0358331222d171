# wlns: one static binary in an empty image.
#
#   docker build -t wlns .
#
# A single node (the image's defaults: it bootstraps a one-node cluster, its
# inter-node port stays on the container's loopback):
#
#   docker run -d --name wlns -v wlns-data:/var/lib/wlns \
#     -p 53:5300/udp -p 53:5300/tcp -p 127.0.0.1:8053:8053 wlns
#   docker exec wlns /wlns pair add dave@umkc.edu 192.0.2.4
#
# The CLI inside the container finds the admin token without flags: it reads
# admin.token in $WLNS_DATA, the data folder the image sets.
#
# A cluster mirror listens for its peers on every address and tells them the
# address they dial (WLNS_ADVERTISE); the cluster files come in a volume:
#
#   docker run -d --name wlns -v wlns-data:/var/lib/wlns -v /etc/wlns/tls:/tls:ro \
#     -e WLNS_RAFT=127.0.0.1:8300 -e WLNS_ADVERTISE=198.51.100.2:8300 \
#     -e WLNS_CLUSTER_CA=/tls/ca.crt -e WLNS_CLUSTER_CERT=/tls/node.crt \
#     -e WLNS_CLUSTER_KEY=/tls/node.key \
#     -e WLNS_JOIN=198.51.100.1:8300 -e WLNS_JOIN_TOKEN=... \
#     -p 53:5300/udp -p 53:5300/tcp -p 127.0.0.1:8053:8053 -p 8300:8300 wlns
#
# (the first node of a new cluster leaves out WLNS_JOIN). Every flag of
# `wlns serve` is also an environment variable (WLNS_*), so a node is
# configured with `-e` or an env file; see README.md and docs/cluster.md. The
# image runs as an unprivileged user and listens on unprivileged ports; map
# them to 53 (DNS), 25 (inbound SMTP) as needed. systest/container_test.go
# runs the binary with this file's ENV, both ways.
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
    WLNS_RAFT=127.0.0.1:8300 \
    WLNS_LOG_FORMAT=json
VOLUME /var/lib/wlns
EXPOSE 5300/udp 5300/tcp 8053/tcp 8300/tcp 2525/tcp
ENTRYPOINT ["/wlns"]
CMD ["serve"]
