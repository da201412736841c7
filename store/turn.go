package store

import (
	"context"
	"errors"
	"fmt"
)

// turnStatements are the statements of SaveTurn, prepared before its
// transaction begins (inside it SQLite's one writer connection is taken).
var turnStatements = []string{
	sqlInsertConversation, sqlUpdateConversation, sqlInsertTranscript, sqlInsertStepEvent, sqlSessionOf,
	sqlStartSession, sqlTouchSession, sqlEndSession, sqlSetSatisfaction, sqlAddTimer, sqlDeleteTimers,
}

func (s *sqlStore) SaveTurn(ctx context.Context, tw TurnWrite) (int64, error) {
	if err := checkTurn(tw); err != nil {
		return 0, err
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
		_, err := s.addTimer(ctx, w, *op.AddTimer)
		return err
	case op.CancelTimers:
		return s.deleteTimers(ctx, w, convID)
	}
	return nil
}
