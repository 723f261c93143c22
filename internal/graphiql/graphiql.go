// Package graphiql serves the GraphiQL explorer from the binary. The assets
// are bundled ahead of time (graphiql/ at the repository root, `make
// graphiql`) and embedded, so the explorer works with no internet and the
// page loads nothing from another origin.
package graphiql

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed assets
var assets embed.FS

// contentSecurityPolicy allows this origin only: the bundle's script and
// stylesheet, the API over fetch and WebSocket, and the fonts and icons
// GraphiQL's stylesheet carries inline as data: URLs. No inline scripts,
// no other origin, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Handler serves the explorer at prefix (e.g. "/graphiql") and its assets
// under it. Register it for GET prefix and GET prefix + "/".
func Handler(prefix string) http.Handler {
	files, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	static := http.StripPrefix(prefix+"/", http.FileServerFS(files))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		switch r.URL.Path {
		case prefix, prefix + "/":
			h.Set("Content-Type", "text/html; charset=utf-8")
			http.ServeFileFS(w, r, files, "index.html")
		default:
			static.ServeHTTP(w, r)
		}
	})
}
