package admin

import (
	"context"
	"errors"
	"fmt"
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

func TestUnavailable_StatusByCause(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{fmt.Errorf("%w: group name has a control character", command.ErrInvalidEnvelope), http.StatusBadRequest},
		{fmt.Errorf("waiting: %w", context.DeadlineExceeded), http.StatusServiceUnavailable},
		{errors.New("no raft leader; nothing was applied"), http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		var ae *apiError
		if err := unavailable(tt.err); !errors.As(err, &ae) || ae.status != tt.want {
			t.Errorf("unavailable(%v) = %v; want status %d", tt.err, err, tt.want)
		}
	}
}
