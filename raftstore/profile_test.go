package raftstore

import (
	"testing"
	"time"

	"github.com/hashicorp/raft"
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
