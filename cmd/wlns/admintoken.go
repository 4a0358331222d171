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
	"time"

	"github.com/wlns/wlns/admin"
	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/raftstore"
	"github.com/wlns/wlns/record"
)

// adminTokenName is the token the first start creates.
const adminTokenName = "admin"

// ensureAdminToken makes sure <data>/admin.token holds the secret of an
// admin token the store knows. On the first start it creates the secret,
// writes the file (0600) before proposing, so the secret is never lost,
// and prints it once to w. It returns the file's path. When the cluster
// has no leader to commit the token just now (a new mirror joining a busy
// or partitioned cluster), the node does not give up: it says so and
// retry keeps proposing in the background until the token is stored.
func ensureAdminToken(ctx context.Context, store *raftstore.Store, dir string, w io.Writer, log *slog.Logger,
	retry func(func(context.Context))) (string, error) {
	path := filepath.Join(dir, "admin.token")
	secret, created, err := loadOrCreateSecret(path)
	if err != nil {
		return "", err
	}
	hash := admin.HashSecret(secret)
	if store.Token(hash) != nil {
		return path, nil
	}
	err = storeAdminToken(ctx, store, hash, path, log)
	if noLeaderYet(err) {
		log.Warn("admin token not stored yet (no leader to commit it); retrying in the background: the CLI gets 401 until then",
			"file", path, "err", err)
		retry(func(ctx context.Context) { retryAdminToken(ctx, store, hash, path, log) })
		err = nil
	}
	if err != nil {
		return "", err
	}
	if created {
		fmt.Fprintf(w, "\nwlns: created the admin API token. It is saved in %s (mode 0600):\n\n    %s\n\n"+
			"The wlns CLI on this machine reads it from there; keep it secret.\n\n", path, secret)
	}
	return path, nil
}

// storeAdminToken proposes this node's admin token.
func storeAdminToken(ctx context.Context, store *raftstore.Store, hash, path string, log *slog.Logger) error {
	name := localTokenName(store)
	env, err := command.New(command.TokenPut, time.Now().Unix(), "admin-token-"+hash[:16],
		command.TokenBody{Name: name, Hash: hash, Role: string(record.RoleAdmin)})
	if err != nil {
		return err
	}
	res, err := store.Apply(ctx, env)
	if err != nil {
		return fmt.Errorf("storing the admin token: %w", err)
	}
	if res.Err != nil {
		return fmt.Errorf("storing the admin token: %w", res.Err)
	}
	log.Info("admin token stored", "name", name, "file", path)
	return nil
}

// adminTokenRetry is how often a token that found no leader is proposed
// again.
const adminTokenRetry = 2 * time.Second

// retryAdminToken proposes the token every adminTokenRetry until it is
// stored, refused for good, or ctx ends.
func retryAdminToken(ctx context.Context, store *raftstore.Store, hash, path string, log *slog.Logger) {
	t := time.NewTicker(adminTokenRetry)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if store.Token(hash) != nil {
			return
		}
		err := storeAdminToken(ctx, store, hash, path, log)
		if err == nil {
			return
		}
		if !noLeaderYet(err) {
			log.Error("admin token not stored", "file", path, "err", err)
			return
		}
	}
}

// noLeaderYet reports an error that says the cluster could not commit
// just now, and may later (this node not being the leader included: it
// may become it, or learn of one).
func noLeaderYet(err error) bool {
	return errors.Is(err, raftstore.ErrNoLeader) || errors.Is(err, raftstore.ErrNotLeader) ||
		errors.Is(err, raftstore.ErrLeadershipLost) || errors.Is(err, raftstore.ErrTimeout)
}

// localTokenName is the name this node's own admin token gets: "admin" on
// the first node, "admin-<node ID>" on a node that joined a cluster (it
// adds its own, forwarded to the leader, so its local CLI works too), and
// never a name another token holds: after a restore the backup's "admin"
// token is someone's key, and putting this node's secret under its name
// would replace that secret (its holder then gets 401 while `token list`
// still shows "admin").
func localTokenName(store *raftstore.Store) string {
	taken := map[string]bool{}
	for _, t := range store.Tokens() {
		taken[t.Name] = true
	}
	name := adminTokenName
	if !store.IsLeader() || taken[name] {
		name = adminTokenName + "-" + store.NodeID()
	}
	for i := 2; taken[name]; i++ {
		name = fmt.Sprintf("%s-%s-%d", adminTokenName, store.NodeID(), i)
	}
	return name
}

// loadOrCreateSecret reads the secret in path, or creates and writes one.
func loadOrCreateSecret(path string) (secret string, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil && strings.TrimSpace(string(b)) != "" {
		return strings.TrimSpace(string(b)), false, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("reading admin token: %w", err)
	}
	secret, err = admin.NewSecret()
	if err != nil {
		return "", false, err
	}
	if err := writeFileAtomic(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("saving admin token: %w", err)
	}
	return secret, true, nil
}
