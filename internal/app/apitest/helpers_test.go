package apitest

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"configmarket/internal/relay"
)

func globalIDOf(typeName string, id uuid.UUID) string { return relay.ID(typeName, id.String()) }

type rawResponse struct {
	status int
	header http.Header
	body   string
}

// raw sends a request exactly as given, for transport-level tests.
func (s *Server) raw(t *testing.T, method, path, contentType, body string, headers map[string]string) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return rawResponse{status: res.StatusCode, header: res.Header, body: string(b)}
}
