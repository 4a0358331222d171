package suggest

import (
	"testing"

	"github.com/wlns/wlns/record"
)

func TestWithoutDismissed(t *testing.T) {
	w := plant()
	all := Find(w.build(identity(len(w.pairs))), Config{}) // {1,2,3,4} at 40, {5,6,90} at 25
	tests := []struct {
		name      string
		dismissed []record.Dismissal
		want      []string
		renewed   string // the ID listed again with Dismissed set
	}{
		{"none", nil, []string{all[0].ID, all[1].ID}, ""},
		{"the pool, at its evidence", []record.Dismissal{{Entities: []uint64{1, 2, 3, 4}, Shared: 40}}, []string{all[1].ID}, ""},
		{"the pool, at under half its evidence", []record.Dismissal{{Entities: []uint64{1, 2, 3, 4}, Shared: 20}}, []string{all[0].ID, all[1].ID}, all[0].ID},
		{"three of its relays: a relay joined since", []record.Dismissal{{Entities: []uint64{1, 2, 3}, Shared: 40}}, []string{all[0].ID, all[1].ID}, ""},
		{"both", []record.Dismissal{{Entities: []uint64{5, 6, 90}, Shared: 25}, {Entities: []uint64{1, 2, 3, 4}, Shared: 39}}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := WithoutDismissed(all, tt.dismissed)
			var ids []string
			for _, s := range got {
				ids = append(ids, s.ID)
				if (s.Dismissed != nil) != (s.ID == tt.renewed) {
					t.Errorf("%s: Dismissed = %+v", s.ID, s.Dismissed)
				}
			}
			if len(ids) != len(tt.want) || len(ids) > 0 && ids[0] != tt.want[0] || len(ids) > 1 && ids[1] != tt.want[1] {
				t.Errorf("listed %v, want %v", ids, tt.want)
			}
		})
	}
	if all[0].Dismissed != nil {
		t.Error("WithoutDismissed changed its input")
	}
}
