package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/wlns/wlns/record"
)

// newLog builds the logger of serve and policy: text or JSON on w at
// level, with addresses reduced to their domain in every line at info and
// above (docs/security.md: logs at info never carry a full address; the
// local part shows at debug only).
func newLog(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(redactHandler{h})
}

// redactHandler passes records at info and above to its handler with
// record.Redacted applied to the message and to every attribute value;
// debug records pass unchanged. Attributes attached with WithAttrs are
// redacted whatever the level of the lines that will carry them.
type redactHandler struct{ next slog.Handler }

func (h redactHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h redactHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelInfo {
		return h.next.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, record.Redacted(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h redactHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = redactAttr(a)
	}
	return redactHandler{h.next.WithAttrs(red)}
}

func (h redactHandler) WithGroup(name string) slog.Handler {
	return redactHandler{h.next.WithGroup(name)}
}

// redactAttr is a with its string form redacted: strings, errors,
// Stringers and groups (recursively); numbers, times and the like as they
// are.
func redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, record.Redacted(v.String()))
	case slog.KindAny:
		s := fmt.Sprint(v.Any())
		if red := record.Redacted(s); red != s {
			return slog.String(a.Key, red)
		}
		return slog.Attr{Key: a.Key, Value: v}
	case slog.KindGroup:
		g := v.Group()
		red := make([]any, len(g))
		for i, ga := range g {
			red[i] = redactAttr(ga)
		}
		return slog.Group(a.Key, red...)
	}
	return slog.Attr{Key: a.Key, Value: v}
}
