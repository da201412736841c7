package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"time"
)

const nsPerDay = int64(24 * time.Hour)

// Stats counts, for sessions ended since `since`, their outcomes per UTC
// day; for step events since `since`, the funnel; for escalations created
// since `since`, the median times; for sessions started since `since`,
// the satisfaction scores.
func (s *sqlStore) Stats(ctx context.Context, since time.Time) (Stats, error) {
	st := Stats{SatisfactionCounts: map[int]int{}}
	from := ns(since)

	// Outcomes per day. Integer division of Unix nanoseconds gives the UTC
	// day in both dialects.
	rows, err := s.query(ctx, `SELECT ended_at / `+strconv.FormatInt(nsPerDay, 10)+`, outcome, COUNT(*) FROM sessions
		WHERE ended_at IS NOT NULL AND ended_at >= ? AND outcome <> ''
		GROUP BY 1, 2 ORDER BY 1`, from)
	if err != nil {
		return Stats{}, fmt.Errorf("store: stats outcomes: %w", err)
	}
	byDay := map[int64]map[string]int{}
	var days []int64
	for rows.Next() {
		var day int64
		var outcome string
		var n int
		if err := rows.Scan(&day, &outcome, &n); err != nil {
			rows.Close()
			return Stats{}, fmt.Errorf("store: stats outcomes: %w", err)
		}
		if byDay[day] == nil {
			byDay[day] = map[string]int{}
			days = append(days, day)
		}
		byDay[day][outcome] += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Stats{}, fmt.Errorf("store: stats outcomes: %w", err)
	}
	sort.Slice(days, func(i, j int) bool { return days[i] < days[j] })
	for _, d := range days {
		st.OutcomesPerDay = append(st.OutcomesPerDay, DayOutcomes{
			Day:    fromNS(d * nsPerDay).Format("2006-01-02"),
			Counts: byDay[d],
		})
	}

	// Funnel: distinct sessions shown / failing each step.
	rows, err = s.query(ctx, `SELECT step,
			COUNT(DISTINCT CASE WHEN event = 'shown' THEN session_key END),
			COUNT(DISTINCT CASE WHEN event = 'failed' THEN session_key END),
			MIN(at)
		FROM step_events WHERE at >= ? GROUP BY step ORDER BY 4, 1`, from)
	if err != nil {
		return Stats{}, fmt.Errorf("store: stats funnel: %w", err)
	}
	for rows.Next() {
		var r FunnelRow
		var first int64
		if err := rows.Scan(&r.Step, &r.Reached, &r.Failed, &first); err != nil {
			rows.Close()
			return Stats{}, fmt.Errorf("store: stats funnel: %w", err)
		}
		st.Funnel = append(st.Funnel, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Stats{}, fmt.Errorf("store: stats funnel: %w", err)
	}

	// Response and resolution times.
	rows, err = s.query(ctx, `SELECT created_at, claimed_at, first_response_at, resolved_at FROM escalations
		WHERE created_at >= ?`, from)
	if err != nil {
		return Stats{}, fmt.Errorf("store: stats times: %w", err)
	}
	var firsts, resolutions []time.Duration
	for rows.Next() {
		var created int64
		var claimed, first, resolved sql.NullInt64
		if err := rows.Scan(&created, &claimed, &first, &resolved); err != nil {
			rows.Close()
			return Stats{}, fmt.Errorf("store: stats times: %w", err)
		}
		// The first response is whichever came first: a claim or a message.
		resp := int64(-1)
		for _, v := range []sql.NullInt64{claimed, first} {
			if v.Valid && (resp < 0 || v.Int64 < resp) {
				resp = v.Int64
			}
		}
		if resp >= 0 {
			firsts = append(firsts, time.Duration(max(resp-created, 0)))
		}
		if resolved.Valid {
			resolutions = append(resolutions, time.Duration(max(resolved.Int64-created, 0)))
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Stats{}, fmt.Errorf("store: stats times: %w", err)
	}
	st.MedianFirstResponse = median(firsts)
	st.MedianResolution = median(resolutions)

	rows, err = s.query(ctx, `SELECT satisfaction, COUNT(*) FROM sessions
		WHERE satisfaction BETWEEN 1 AND 5 AND started_at >= ? GROUP BY satisfaction`, from)
	if err != nil {
		return Stats{}, fmt.Errorf("store: stats satisfaction: %w", err)
	}
	for rows.Next() {
		var score, n int
		if err := rows.Scan(&score, &n); err != nil {
			rows.Close()
			return Stats{}, fmt.Errorf("store: stats satisfaction: %w", err)
		}
		st.SatisfactionCounts[score] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Stats{}, fmt.Errorf("store: stats satisfaction: %w", err)
	}

	if err := s.queryRow(ctx, `SELECT COUNT(*) FROM escalations WHERE status <> 'resolved'`).Scan(&st.OpenEscalations); err != nil {
		return Stats{}, fmt.Errorf("store: stats open: %w", err)
	}
	return st, nil
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	m := len(ds) / 2
	if len(ds)%2 == 1 {
		return ds[m]
	}
	return (ds[m-1] + ds[m]) / 2
}
