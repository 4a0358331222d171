package admin

import (
	"net/http"
	"testing"
)

func TestZoneRecords_PutListDelete(t *testing.T) {
	env := newTestEnv(t)
	var got ZoneRecordRequest
	env.must(http.StatusCreated, "POST", "/v1/zone-records", adminSecret, `{"name":"Verify","type":"mx","data":"10   ns1"}`).json(t, &got)
	if got.Name != "verify" || got.Type != "MX" || got.Data != "10 ns1" {
		t.Fatalf("created %+v, want the normalised record", got)
	}
	env.must(http.StatusOK, "POST", "/v1/zone-records", adminSecret, `{"name":"verify","type":"MX","data":"10 ns1"}`)
	env.must(http.StatusCreated, "POST", "/v1/zone-records", adminSecret, `{"name":"@","type":"A","data":"192.0.2.80"}`)
	for _, c := range []struct {
		secret string
		status int
		body   string
	}{
		{postmasterSecret, http.StatusForbidden, `{"name":"@","type":"A","data":"192.0.2.81"}`},
		{readSecret, http.StatusForbidden, `{"name":"@","type":"A","data":"192.0.2.81"}`},
		{adminSecret, http.StatusBadRequest, `{"name":"x.relay","type":"A","data":"192.0.2.81"}`},
		{adminSecret, http.StatusBadRequest, `{"name":"@","type":"A","data":"2001:db8::1"}`},
		{adminSecret, http.StatusBadRequest, `{"name":"@","type":"NS","data":"ns9"}`},
	} {
		if r := env.do("POST", "/v1/zone-records", c.secret, c.body); r.status != c.status {
			t.Errorf("%s: %d %s, want %d", c.body, r.status, r.body, c.status)
		}
	}
	var list ZoneRecordList
	env.must(http.StatusOK, "GET", "/v1/zone-records", readSecret, "").json(t, &list)
	if len(list.Records) != 2 || list.Records[0].Name != "@" || list.Records[1].Data != "10 ns1" || list.Records[0].Created == 0 {
		t.Fatalf("list %+v", list.Records)
	}
	env.must(http.StatusOK, "GET", "/v1/zone-records?name=VERIFY", readSecret, "").json(t, &list)
	if len(list.Records) != 1 {
		t.Fatalf("list of verify: %+v", list.Records)
	}
	env.must(http.StatusNotFound, "DELETE", "/v1/zone-records?name=verify&type=MX&data=20+ns1", adminSecret, "")
	env.must(http.StatusNoContent, "DELETE", "/v1/zone-records?name=verify&type=MX&data=10%20%20ns1", adminSecret, "")
	env.must(http.StatusNoContent, "DELETE", "/v1/zone-records?name=@", adminSecret, "")
	env.must(http.StatusOK, "GET", "/v1/zone-records", readSecret, "").json(t, &list)
	if len(list.Records) != 0 {
		t.Fatalf("after deletes: %+v", list.Records)
	}
}
