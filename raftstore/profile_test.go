package raftstore

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/wlns/wlns/command"
)

func TestProfileByName_ValidRaftConfigs(t *testing.T) {
	for _, tc := range []struct {
		name, want string
		hb         time.Duration
	}{
		{"", ProfileWAN, 3 * time.Second},
		{"wan", ProfileWAN, 3 * time.Second},
		{"lan", ProfileLAN, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ProfileByName(tc.name)
			if err != nil || p.Name != tc.want || p.HeartbeatTimeout != tc.hb {
				t.Fatalf("profile %+v %v, want %s with heartbeat %v", p, err, tc.want, tc.hb)
			}
			rc := raft.DefaultConfig()
			rc.LocalID = "x"
			p.apply(rc)
			if err := raft.ValidateConfig(rc); err != nil {
				t.Fatalf("raft refuses the %s timings: %v", p.Name, err)
			}
		})
	}
	if _, err := ProfileByName("moon"); err == nil {
		t.Fatal("an unknown profile was accepted")
	}
	if err := (Config{Dir: "d", Bind: "127.0.0.1:0", Profile: "moon"}).withDefaults().validate(); err == nil {
		t.Fatal("Config with an unknown profile validated")
	}
}

func TestTimings_LoneServerElectsFastThenTakesTheProfile(t *testing.T) {
	start := time.Now()
	s := openStore(t, t.TempDir(), nil) // WAN profile
	if took := time.Since(start); took > 4*time.Second {
		t.Fatalf("a one-node WAN server took %v to lead", took)
	}
	if hb := s.raft.ReloadableConfig().HeartbeatTimeout; hb >= 3*time.Second {
		t.Fatalf("a lone server waits %v for heartbeats", hb)
	}
	two := raft.Configuration{Servers: []raft.Server{{ID: raft.ServerID(s.NodeID())}, {ID: "other"}}}
	s.timings(two)
	if rc := s.raft.ReloadableConfig(); rc.HeartbeatTimeout != 3*time.Second || rc.ElectionTimeout != 3*time.Second {
		t.Fatalf("with two servers the timings are %v/%v, want the WAN 3s/3s", rc.HeartbeatTimeout, rc.ElectionTimeout)
	}
}

func TestProfile_ClusterFailsOverAfterTheHeartbeatTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("elects with WAN timings (several seconds)")
	}
	for _, profile := range []string{ProfileLAN, ProfileWAN} {
		t.Run(profile, func(t *testing.T) { failOver(t, profile) })
	}
}

// failOver stops the leader of a three-voter cluster on the given profile
// and checks a new leader comes about no sooner than the heartbeat timeout
// and takes writes.
func failOver(t *testing.T, profile string) {
	p, _ := ProfileByName(profile)
	ca := newCA(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	mod := func(c *Config) { c.Profile = profile; c.Voters = 3; c.PromoteAfter = -1 }
	a := mirror(t, t.TempDir(), ca, "a", true, mod)
	if err := a.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	nodes := []*Store{a}
	for _, id := range []string{"b", "c"} {
		s := mirror(t, t.TempDir(), ca, id, false, mod)
		if err := s.JoinCluster(ctx, a.Addr(), "s"); err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, s)
	}
	eventually(t, 5*time.Second, "the profile's timings on a three-node leader", func() bool {
		return a.raft.ReloadableConfig().HeartbeatTimeout == p.HeartbeatTimeout
	})
	// Every node must know all three voters: a follower that has not heard
	// of c yet refuses c's vote request and cannot win without a, so with a
	// stopped early no leader would ever come.
	eventually(t, 20*time.Second, "every node to know the three voters", func() bool {
		for _, s := range nodes {
			conf, err := s.configuration()
			if err != nil || len(conf.Servers) != 3 {
				return false
			}
			for _, srv := range conf.Servers {
				if srv.Suffrage != raft.Voter {
					return false
				}
			}
		}
		return true
	})
	killed := time.Now()
	a.Close()
	// Each follower's last contact with a: a follower stands for election
	// only a heartbeat timeout after its own, which under load may be well
	// before the stop (a starved leader sends late). Read after the stop,
	// it is at or before the real one, so the wait measured is no shorter.
	contact := map[*Store]time.Time{}
	for _, s := range nodes[1:] {
		contact[s] = s.raft.LastContact()
	}
	var leader *Store
	eventually(t, 30*time.Second, "a new leader", func() bool {
		for _, s := range nodes[1:] {
			if s.IsLeader() {
				leader = s
				return true
			}
		}
		return false
	})
	took := time.Since(contact[leader])
	t.Logf("%s profile: new leader %s %v after the leader stopped, %v after its last contact with it", profile, leader.NodeID(),
		time.Since(killed).Round(10*time.Millisecond), took.Round(10*time.Millisecond))
	if took < p.HeartbeatTimeout {
		t.Fatalf("a new leader %v after its last contact with the old one: the followers did not wait for the %v heartbeat timeout", took, p.HeartbeatTimeout)
	}
	mustApply(t, leader, command.PairPut, "", command.PairBody{Sender: "after@example.org", IP: "192.0.2.9"})
}
