package admin

import (
	"net/http"
	"testing"

	"github.com/wlns/wlns/command"
)

func TestRejectionStatus_EachCodeHasItsStatus(t *testing.T) {
	tests := []struct {
		code command.Code
		want int
	}{
		{command.Invalid, http.StatusBadRequest},
		{command.NotFound, http.StatusNotFound},
		{command.Conflict, http.StatusConflict},
		{command.Refused, http.StatusForbidden},
		{command.Limited, http.StatusTooManyRequests},
		{command.Code("from a newer node"), http.StatusUnprocessableEntity},
	}
	for _, tt := range tests {
		if got := rejectionStatus(tt.code); got != tt.want {
			t.Errorf("rejectionStatus(%q) = %d, want %d", tt.code, got, tt.want)
		}
	}
}
