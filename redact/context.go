package redact

import "context"

type namesKey struct{}

// WithNames returns a context that carries names known for this
// conversation (the student's display name): code that sends text out of
// the process, such as the llm package, removes them with Names too.
func WithNames(ctx context.Context, names ...string) context.Context {
	if len(names) == 0 {
		return ctx
	}
	all := append(append([]string(nil), NamesFrom(ctx)...), names...)
	return context.WithValue(ctx, namesKey{}, all)
}

// NamesFrom returns the names WithNames put in ctx.
func NamesFrom(ctx context.Context) []string {
	n, _ := ctx.Value(namesKey{}).([]string)
	return n
}
