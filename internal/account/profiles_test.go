package account

import (
	"testing"

	"configmarket/internal/apperr"
)

func TestProfileFieldsAreNormalisedOrRefused(t *testing.T) {
	for raw, want := range map[string]string{
		"+7 (916) 123-45-67": "+79161234567",
		" +44 20 7946 0958 ": "+442079460958",
		"+1.415.555.2671":    "+14155552671",
		"89161234567":        "",
		"+7 916":             "",
		"+0 916 123 45 67":   "",
		"+7916123456789012":  "",
		"+7 916 123 45 67x1": "",
	} {
		var errs apperr.List
		got := normalisePhone(raw, &errs)
		if want == "" {
			if len(errs) != 1 || errs[0].Code != "PHONE_INVALID" {
				t.Errorf("phone %q: errors %v, want PHONE_INVALID", raw, errs)
			}
			continue
		}
		if len(errs) != 0 || got == nil || *got != want {
			t.Errorf("phone %q: %v %v, want %s", raw, got, errs, want)
		}
	}
	var errs apperr.List
	if normalisePhone("  ", &errs) != nil || len(errs) != 0 {
		t.Errorf("an empty phone clears it: %v", errs)
	}
	for raw, ok := range map[string]bool{
		"https://acme.example":          true,
		"http://acme.example/about?x=1": true,
		"":                              true,
		"acme.example":                  false,
		"javascript:alert(1)":           false,
		"ftp://acme.example":            false,
		"https://user:pw@acme.example":  false,
		"https://":                      false,
	} {
		var errs apperr.List
		normaliseWebsite(raw, &errs)
		if ok != (len(errs) == 0) {
			t.Errorf("website %q: errors %v, want ok %v", raw, errs, ok)
		}
	}
}
