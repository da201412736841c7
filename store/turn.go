package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// turnStatements are the statements of SaveTurn, prepared before its
// transaction begins (inside it SQLite's one writer connection is taken).
var turnStatements = []string{
	sqlInsertConversation, sqlUpdateConversation, sqlInsertTranscript, sqlInsertStepEvent,
	sqlStartSession, sqlTouchSession, sqlEndSession, sqlSetSatisfaction, sqlInsertTimer, sqlDeleteTimers,
}

func (s *sqlStore) SaveTurn(ctx context.Context, tw TurnWrite) (int64, error) {
	if err := checkTurn(tw); err != nil {
		return 0, err
	}
	if s.d == dialectPostgres {
		return s.saveTurnBatch(ctx, tw)
	}
	s.prepare(ctx, turnStatements...)
	tx, err := s.w.BeginTx(ctx, nil) // SQLite: BEGIN IMMEDIATE, the write lock
	if err != nil {
		return 0, fmt.Errorf("store: save turn: %w", err)
	}
	defer tx.Rollback()
	w := txWriter{s, tx}
	v, err := s.saveConversation(ctx, w, tw.Conversation)
	if err != nil {
		return 0, err
	}
	for i, op := range tw.Ops {
		if err := s.turnOp(ctx, w, tw.Conversation.ID, op); err != nil && !errors.Is(err, ErrNotFound) {
			return 0, fmt.Errorf("store: save turn: op %d: %w", i, err)
		}
	}
	if err := s.commit(tx); err != nil {
		return 0, fmt.Errorf("store: save turn: commit: %w", err)
	}
	return v, nil
}

// checkTurn refuses a TurnWrite with an op that would fail, before
// anything is written.
func checkTurn(tw TurnWrite) error {
	if tw.Conversation.ID == "" {
		return errors.New("store: save turn: empty conversation id")
	}
	for i, op := range tw.Ops {
		n := 0
		for _, set := range []bool{op.Transcript != nil, op.StepEvent != nil, op.StartSession != nil, op.TouchSession != nil,
			op.EndSession != nil, op.Satisfaction != nil, op.AddTimer != nil, op.CancelTimers} {
			if set {
				n++
			}
		}
		var err error
		switch {
		case n != 1:
			err = fmt.Errorf("%d fields set, want 1", n)
		case op.StartSession != nil && op.StartSession.ID == "":
			err = errors.New("start session: empty id")
		case op.EndSession != nil && op.EndSession.Outcome == "":
			err = errors.New("end session: empty outcome")
		case op.Satisfaction != nil && (op.Satisfaction.Score < 1 || op.Satisfaction.Score > 5):
			err = fmt.Errorf("satisfaction %d out of range 1..5", op.Satisfaction.Score)
		}
		if err != nil {
			return fmt.Errorf("store: save turn: op %d: %w", i, err)
		}
	}
	return nil
}

func (s *sqlStore) turnOp(ctx context.Context, w writer, convID string, op TurnOp) error {
	switch {
	case op.Transcript != nil:
		return s.appendTranscript(ctx, w, *op.Transcript)
	case op.StepEvent != nil:
		return s.recordStepEvent(ctx, w, *op.StepEvent)
	case op.StartSession != nil:
		return s.startSession(ctx, w, *op.StartSession)
	case op.TouchSession != nil:
		return touchSession(ctx, w, op.TouchSession.ID, op.TouchSession.At)
	case op.EndSession != nil:
		return endSession(ctx, w, op.EndSession.ID, op.EndSession.Outcome, op.EndSession.At)
	case op.Satisfaction != nil:
		return setSatisfaction(ctx, w, op.Satisfaction.ID, op.Satisfaction.Score)
	case op.AddTimer != nil:
		t := op.AddTimer
		_, err := w.exec(ctx, sqlInsertTimer, t.ConversationID, ns(t.Due), nonNilBytes(t.Payload))
		if err != nil {
			return fmt.Errorf("store: add timer: %w", err)
		}
		return nil
	case op.CancelTimers:
		return s.deleteTimers(ctx, w, convID)
	}
	return nil
}

// saveTurnBatch is SaveTurn on PostgreSQL: the turn's statements go to
// the server as one pipelined batch inside the transaction, so a turn
// costs three round trips (begin, the batch, commit) whatever it wrote.
func (s *sqlStore) saveTurnBatch(ctx context.Context, tw TurnWrite) (int64, error) {
	b := &pgx.Batch{}
	q := batchWriter{s: s, b: b}
	v, err := s.saveConversation(ctx, q, tw.Conversation) // queued: its result is read below
	if err != nil && !errors.Is(err, ErrConflict) {
		return 0, err
	}
	for i, op := range tw.Ops {
		if err := s.turnOp(ctx, q, tw.Conversation.ID, op); err != nil && !errors.Is(err, ErrNotFound) {
			return 0, fmt.Errorf("store: save turn: op %d: %w", i, err)
		}
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: save turn: %w", err)
	}
	defer conn.Close()
	conflict := false
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		br := tx.SendBatch(ctx, b)
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			return err
		}
		if tag.RowsAffected() == 0 {
			conflict = true
			return br.Close() // rolled back
		}
		for i := 1; i < b.Len(); i++ {
			if _, err := br.Exec(); err != nil {
				br.Close()
				return fmt.Errorf("op %d: %w", i-1, err)
			}
		}
		if err := br.Close(); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		return 0, fmt.Errorf("store: save turn: %w", err)
	}
	if conflict {
		return 0, ErrConflict
	}
	s.commits.add()
	return v, nil
}

// batchWriter queues statements into a pgx batch instead of running
// them; their results are read when the batch has run. exec reports one
// row affected, so the statement builders go on as if it had worked.
type batchWriter struct {
	s *sqlStore
	b *pgx.Batch
}

func (w batchWriter) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	w.b.Queue(w.s.rebind(q), args...)
	return driver.RowsAffected(1), nil
}

func (w batchWriter) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	panic("store: a batch has no rows to return")
}
