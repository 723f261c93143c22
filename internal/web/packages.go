package web

import (
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/apperr"
	"configmarket/internal/audit"
	"configmarket/internal/identity"
	"configmarket/internal/packages"
	"configmarket/internal/relay"
)

// packageTransfer is how long one package upload or download may take: a
// 100 MiB archive over a slow link outlasts the server's usual deadlines.
const packageTransfer = 30 * time.Minute

// Packages serves the configurations' packages over plain HTTP:
//
//	PUT /packages/versions/{id}     the developer uploads a draft version's package (bearer token)
//	GET /packages/versions/{id}     moderators and the developer download it (bearer token)
//	GET /packages/current?key=&accountId=   the CRM fetches the package its installation runs
//	GET /packages/backups/{token}   a buyer's signed backup link
//
// Only PUT with a bearer token writes: no browser sends that as a simple
// request, so no foreign page can upload for a logged-in developer.
func Packages(svc *packages.Service, lic packages.Licenser, auth Authenticator) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("PUT /packages/versions/{id}", versionRoute(auth, func(w http.ResponseWriter, r *http.Request, v identity.Viewer, id uuid.UUID) {
		if r.ContentLength > svc.Rules().MaxSize {
			tooLarge(w)
			return
		}
		extendDeadlines(w)
		// The upload is a mutation: audited like the GraphQL ones, in the
		// transaction that records it.
		ctx := audit.With(r.Context(), &audit.Pending{Action: packages.AuditUpload})
		p, err := svc.Upload(ctx, v, id, r.Body)
		if errors.Is(err, packages.ErrTooLarge) {
			tooLarge(w)
			return
		}
		if err != nil {
			writeDomainError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"versionId": relay.UUIDID(relay.TypeVersion, p.VersionID), "sha256": hex.EncodeToString(p.SHA256), "size": p.Size,
			"uploadedAt": p.UploadedAt.UTC().Format(time.RFC3339), "problem": p.Problem,
		})
	}))
	mux.Handle("GET /packages/versions/{id}", versionRoute(auth, func(w http.ResponseWriter, r *http.Request, v identity.Viewer, id uuid.UUID) {
		d, err := svc.ForModeration(r.Context(), v, id)
		servePackage(w, r, d, err)
	}))
	mux.HandleFunc("GET /packages/current", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		d, err := svc.Current(r.Context(), lic, q.Get("key"), q.Get("accountId"))
		servePackage(w, r, d, err)
	})
	mux.HandleFunc("GET /packages/backups/{token}", func(w http.ResponseWriter, r *http.Request) {
		d, err := svc.Backup(r.Context(), r.PathValue("token"))
		servePackage(w, r, d, err)
	})
	return mux
}

// versionRoute serves a route of one version with its caller: a refused
// bearer token is 401, an id that names no version 404.
func versionRoute(auth Authenticator, serve func(w http.ResponseWriter, r *http.Request, v identity.Viewer, id uuid.UUID)) http.Handler {
	return Authenticate(auth, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := AuthError(r.Context()); err != nil {
			writeJSONError(w, http.StatusUnauthorized, "UNAUTHENTICATED", "the access token is not valid")
			return
		}
		raw := r.PathValue("id")
		id, err := relay.ParseUUIDOf(raw, relay.TypeVersion)
		if err != nil {
			if id, err = uuid.Parse(raw); err != nil {
				writeJSONError(w, http.StatusNotFound, "NOT_FOUND", "no such version")
				return
			}
		}
		serve(w, r, identity.FromContext(r.Context()), id)
	}))
}

func tooLarge(w http.ResponseWriter) {
	writeJSONError(w, http.StatusRequestEntityTooLarge, "PACKAGE_TOO_LARGE", "the package is larger than the limit")
}

// extendDeadlines gives a package transfer more time than the server's
// read and write timeouts, which suit GraphQL requests.
func extendDeadlines(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(packageTransfer))
	_ = rc.SetWriteDeadline(time.Now().Add(packageTransfer))
}

// servePackage sends a package with its SHA-256 as the ETag: If-None-Match
// answers 304, Range requests get their part.
func servePackage(w http.ResponseWriter, r *http.Request, d packages.Download, err error) {
	if err != nil {
		writeDomainError(w, r, err)
		return
	}
	defer d.Reader.Close()
	extendDeadlines(w)
	w.Header().Set("ETag", `"`+hex.EncodeToString(d.SHA256)+`"`)
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Cache-Control", "private, no-cache")
	w.Header().Set("X-Package-Version", relay.UUIDID(relay.TypeVersion, d.VersionID))
	http.ServeContent(w, r, "package.tar.gz", d.UploadedAt, d.Reader)
}

// writeDomainError answers a domain error with its status and code; an
// internal one is logged and answered without detail.
func writeDomainError(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := apperr.As(err)
	if !ok || e.Kind == apperr.KindInternal || e.Kind == apperr.KindUnavailable {
		if !errors.Is(err, context.Canceled) {
			slog.ErrorContext(r.Context(), "package request failed", "err", err)
		}
		writeJSONError(w, http.StatusInternalServerError, "INTERNAL", "internal error")
		return
	}
	status := map[apperr.Kind]int{
		apperr.KindNotFound: http.StatusNotFound, apperr.KindUnauthenticated: http.StatusUnauthorized,
		apperr.KindForbidden: http.StatusNotFound, apperr.KindInvalid: http.StatusBadRequest,
		apperr.KindConflict: http.StatusConflict, apperr.KindFailedPrecondition: http.StatusConflict,
		apperr.KindRateLimited: http.StatusTooManyRequests,
	}[e.Kind]
	if status == 0 {
		status = http.StatusBadRequest
	}
	writeJSONError(w, status, e.PublicCode(), strings.TrimSpace(e.Message))
}
