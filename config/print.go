package config

import (
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
)

// Masked is how a secret value is printed.
const Masked = "********"

// Print writes the configuration as "key: value" lines in the contract's
// key names, with secrets masked, for `mfabot config check`.
func (c *Config) Print(w io.Writer) {
	lines := map[string]string{}
	flatten(reflect.ValueOf(*c), "", lines)
	keys := make([]string, 0, len(lines))
	for k := range lines {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s: %s\n", k, lines[k])
	}
}

func flatten(v reflect.Value, prefix string, out map[string]string) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := f.Tag.Get("mapstructure")
		if prefix != "" {
			key = prefix + "." + key
		}
		fv := v.Field(i)
		switch secret := f.Tag.Get("secret"); {
		case secret == "true":
			if fv.String() == "" {
				out[key] = `""`
			} else {
				out[key] = Masked
			}
			continue
		case secret == "url":
			out[key] = maskURLPassword(fv.String())
			continue
		}
		if fv.Kind() == reflect.Pointer {
			if fv.IsNil() {
				out[key] = "(not set)"
				continue
			}
			fv = fv.Elem()
		}
		if fv.Kind() == reflect.Struct && fv.Type().String() != "time.Duration" {
			flatten(fv, key, out)
			continue
		}
		out[key] = formatValue(fv)
	}
}

func formatValue(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		if v.String() == "" {
			return `""`
		}
		return v.String()
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			e := v.Index(i)
			if e.Kind() == reflect.Struct {
				parts[i] = fmt.Sprintf("%+v", e.Interface())
			} else {
				parts[i] = fmt.Sprint(e.Interface())
			}
		}
		return "[" + strings.Join(parts, ", ") + "]"
	default:
		return fmt.Sprint(v.Interface())
	}
}

// maskURLPassword hides the credentials of a connection URL such as
// postgres://user:secret@host/db?password=secret: the part between "://"
// and the last "@" (a password may itself hold "@" or "#") and any
// password parameter. It works on the string, so an unparsable URL is
// masked too.
func maskURLPassword(s string) string {
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			user, _, hasPass := strings.Cut(rest[:at], ":")
			if hasPass {
				rest = user + ":" + Masked + rest[at:]
			}
		}
		s = scheme + "://" + rest
	}
	base, query, ok := strings.Cut(s, "?")
	if !ok {
		return s
	}
	params := strings.Split(query, "&")
	for i, p := range params {
		if k, _, _ := strings.Cut(p, "="); strings.EqualFold(k, "password") || strings.EqualFold(k, "sslpassword") {
			params[i] = k + "=" + Masked
		}
	}
	return base + "?" + strings.Join(params, "&")
}
