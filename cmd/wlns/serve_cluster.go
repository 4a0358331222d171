package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/clustertls"
	"github.com/wlns/wlns/nodenet"
	"github.com/wlns/wlns/raftstore"
)

// Files in the data folder for the join secret.
const (
	joinTokenFile     = "join.token"
	joinTokenHashFile = "join-token.sha256"
)

// clusterSetup is what the store needs to run as a cluster member.
type clusterSetup struct {
	net      *nodenet.Net
	nodeID   string
	joinHash string
}

// openCluster loads the TLS material, opens the inter-node port on --raft
// and settles the join secret. Without the --cluster-* flags it returns a
// zero setup (single node, plain Raft transport).
func (n *node) openCluster(cfg *serveConfig, w io.Writer) (clusterSetup, error) {
	if !cfg.tls() {
		return clusterSetup{}, nil
	}
	id, err := clustertls.Load(clustertls.Files{CA: cfg.clusterCA, Cert: cfg.clusterCert, Key: cfg.clusterKey})
	if err != nil {
		return clusterSetup{}, err
	}
	if cfg.nodeID != "" && cfg.nodeID != id.NodeID {
		return clusterSetup{}, fmt.Errorf("--node-id %q differs from the node ID %q in %s", cfg.nodeID, id.NodeID, cfg.clusterCert)
	}
	hash, err := joinTokenHash(cfg, w, n.log)
	if err != nil {
		return clusterSetup{}, err
	}
	nn, err := nodenet.Listen(cfg.raft, cfg.advertise, id, n.log)
	if err != nil {
		return clusterSetup{}, err
	}
	n.watchCertificate(id)
	return clusterSetup{net: nn, nodeID: id.NodeID, joinHash: hash}, nil
}

// watchCertificate reloads the inter-node certificate, key and CA when
// the files change (checked every clustertls.DefaultReloadEvery), until
// the node stops: new connections then use the new certificate.
func (n *node) watchCertificate(id *clustertls.Identity) {
	n.watch(func(ctx context.Context) {
		id.Watch(ctx, clustertls.DefaultReloadEvery, n.log.With("component", "clustertls"))
	})
}

// joinTokenHash returns the hex SHA-256 of the cluster's join secret and
// keeps it in <data>/join-token.sha256: from --join-token when given, else
// the stored hash, else (a first node) a new secret written to
// <data>/join.token (0600) and printed once.
func joinTokenHash(cfg *serveConfig, w io.Writer, log *slog.Logger) (string, error) {
	hashPath := filepath.Join(cfg.data, joinTokenHashFile)
	if cfg.joinToken != "" {
		h := raftstore.HashJoinToken(cfg.joinToken)
		if err := writeFileAtomic(hashPath, []byte(h+"\n"), 0o600); err != nil {
			return "", fmt.Errorf("saving the join token hash: %w", err)
		}
		return h, nil
	}
	b, err := os.ReadFile(hashPath)
	if err == nil && len(strings.TrimSpace(string(b))) == 64 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("reading the join token hash: %w", err)
	}
	secretPath := filepath.Join(cfg.data, joinTokenFile)
	secret, created, err := loadOrCreateSecret(secretPath)
	if err != nil {
		return "", fmt.Errorf("join token: %w", err)
	}
	h := raftstore.HashJoinToken(secret)
	if err := writeFileAtomic(hashPath, []byte(h+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("saving the join token hash: %w", err)
	}
	if created {
		log.Info("created the cluster join token", "file", secretPath)
		fmt.Fprintf(w, "\nwlns: created the cluster join token. It is saved in %s (mode 0600):\n\n    %s\n\n"+
			"Other nodes join with --join <this node's --raft address> --join-token <it>.\n\n", secretPath, secret)
	}
	return h, nil
}

// joinIfNew joins the cluster through --join unless this node is already a
// member at its address (a restart with existing Raft state rejoins by
// itself).
func (n *node) joinIfNew(ctx context.Context, cfg *serveConfig, store *raftstore.Store) error {
	if cfg.join == "" {
		return nil
	}
	if store.IsMember() {
		n.log.Info("already a cluster member; not joining again", "node_id", store.NodeID())
		return nil
	}
	if err := store.JoinCluster(ctx, cfg.join, cfg.joinToken); err != nil {
		return fmt.Errorf("joining the cluster: %w", err)
	}
	return nil
}

// clusterAPI adapts the store to admin.Cluster.
type clusterAPI struct{ s *raftstore.Store }

// Members lists the cluster members.
func (c clusterAPI) Members(ctx context.Context) ([]admin.ClusterMember, error) {
	ms, err := c.s.Members(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]admin.ClusterMember, len(ms))
	for i, m := range ms {
		out[i] = admin.ClusterMember{ID: m.ID, Address: m.Address, Voter: m.Voter, Leader: m.Leader, Self: m.Self,
			Reachable: m.Reachable, Error: m.Error, State: m.State, AppliedIndex: m.AppliedIndex, Lag: m.Lag,
			LastContactSeconds: m.LastContact}
	}
	return out, nil
}

// RemoveMember removes a member.
func (c clusterAPI) RemoveMember(ctx context.Context, id string) error {
	err := c.s.RemoveMember(ctx, id)
	if errors.Is(err, raftstore.ErrNotMember) {
		return fmt.Errorf("%w: %w", admin.ErrNoSuchMember, err)
	}
	return err
}
