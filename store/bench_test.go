package store

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
)

// Run with: go test ./store/ -run '^$' -bench . -benchtime 2000x
func BenchmarkSQLiteEnqueueMarkDone(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	body := []byte(`{"type":"message","id":"x","text":"hoi, mijn telefoon is nieuw"}`)
	for i := 0; b.Loop(); i++ {
		ok, err := s.Enqueue(ctx, InboxItem{ActivityID: "act-" + strconv.Itoa(i), ConversationID: "c", Body: body})
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
		items, err := s.Pending(ctx, 1)
		if err != nil || len(items) != 1 {
			b.Fatal(items, err)
		}
		if err := s.MarkDone(ctx, items[0].Seq); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSQLiteSaveConversation(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	state := []byte(`{"situation":"new_phone","step":"scan_qr","failures":{"scan_qr":1},"lang":"nl"}`)
	c := Conversation{ID: "c", State: state}
	for b.Loop() {
		v, err := s.SaveConversation(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		c.Version = v
	}
}
