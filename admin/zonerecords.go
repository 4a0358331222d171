package admin

import (
	"net/http"

	"github.com/wlns/wlns/command"
	"github.com/wlns/wlns/record"
	"github.com/wlns/wlns/zonerec"
)

// ZoneRecordRequest is the body of POST /v1/zone-records: one record of
// the zone's own names, in presentation format relative to the apex.
type ZoneRecordRequest struct {
	// Name is the owner relative to the apex: "@" for the apex, "ns1",
	// "_25._tcp.mx".
	Name string `json:"name"`
	// Type is one of record.ZoneRecordTypes.
	Type string `json:"type"`
	// TTL in seconds; 0 or absent: the zone's positive TTL.
	TTL uint32 `json:"ttl,omitempty"`
	// Data is the RDATA, as in a zone file whose origin is the apex
	// ("10 mx" is mx.<apex>; "10 mail.example.net." is absolute).
	Data string `json:"data"`
}

// ZoneRecordList is the answer of GET /v1/zone-records.
type ZoneRecordList struct {
	// Records are sorted by name, type and data.
	Records []record.ZoneRecord `json:"records"`
}

func (a *API) putZoneRecord(w http.ResponseWriter, r *http.Request, _ *caller) error {
	var req ZoneRecordRequest
	if err := decodeJSON(w, r, a.cfg.MaxBody, &req); err != nil {
		return err
	}
	zr, err := zonerec.Normalize(record.ZoneRecord{Name: req.Name, Type: req.Type, TTL: req.TTL, Data: req.Data})
	if err != nil {
		return errorf(http.StatusBadRequest, "%v", err)
	}
	res, err := a.propose(r.Context(), r, command.ZoneRecordPut, command.ZoneRecordBody{Name: zr.Name, Type: zr.Type, TTL: zr.TTL, Data: zr.Data})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
	}
	if got := a.store.Index().Load().ZoneRecords().Find(&zr); got != nil {
		zr = *got
	}
	writeJSON(w, status, zr)
	return nil
}

func (a *API) listZoneRecords(w http.ResponseWriter, r *http.Request, _ *caller) error {
	name := r.URL.Query().Get("name")
	if name != "" {
		var err error
		if name, err = record.NormalizeZoneName(name); err != nil {
			return errorf(http.StatusBadRequest, "%v", err)
		}
	}
	out := ZoneRecordList{Records: []record.ZoneRecord{}}
	a.store.Index().Load().ZoneRecords().Each(func(zr *record.ZoneRecord) bool {
		if name == "" || zr.Name == name {
			out.Records = append(out.Records, *zr)
		}
		return true
	})
	writeJSON(w, http.StatusOK, out)
	return nil
}

// deleteZoneRecords deletes the records of ?name=, narrowed by &type= and
// then &data=.
func (a *API) deleteZoneRecords(w http.ResponseWriter, r *http.Request, _ *caller) error {
	q := r.URL.Query()
	if q.Get("name") == "" {
		return errorf(http.StatusBadRequest, "name is required (@ for the apex)")
	}
	body := command.ZoneRecordBody{Name: q.Get("name"), Type: q.Get("type"), Data: q.Get("data")}
	if body.Data != "" && body.Type != "" {
		zr, err := zonerec.Normalize(record.ZoneRecord{Name: body.Name, Type: body.Type, Data: body.Data})
		if err != nil {
			return errorf(http.StatusBadRequest, "%v", err)
		}
		body.Name, body.Type, body.Data = zr.Name, zr.Type, zr.Data
	}
	if _, err := a.propose(r.Context(), r, command.ZoneRecordDelete, body); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
