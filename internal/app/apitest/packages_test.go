package apitest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"configmarket/internal/app"
	"configmarket/internal/blob"
	"configmarket/internal/factory"
	"configmarket/internal/packages"
)

// packageStorages are the engines the package suite runs on: PostgreSQL
// always; the S3-compatible store when the test scripts started one.
func packageStorages(t *testing.T) map[string]func(*app.Deps) {
	storages := map[string]func(*app.Deps){"postgres": nil}
	raw := os.Getenv("CM_TEST_OBJECT_STORE_URL")
	if raw == "" {
		if os.Getenv("CM_TEST_CLUSTER") == "1" {
			t.Fatal("CM_TEST_OBJECT_STORE_URL is empty: make test starts the S3-compatible store (scripts/objectstore.sh)")
		}
		t.Log("no S3-compatible store: only PostgreSQL storage runs (source scripts/objectstore.sh for both)")
		return storages
	}
	storages["s3"] = func(d *app.Deps) {
		// A prefix of its own per test server: tests never see each other's objects.
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal("CM_TEST_OBJECT_STORE_URL is not a URL")
		}
		u.Path = strings.TrimSuffix(u.Path, "/") + "/packages-test-" + uuid.NewString()[:8]
		s3, err := blob.NewS3(context.Background(), u.String())
		if err != nil {
			t.Fatal(err)
		}
		d.Blobs = s3
	}
	return storages
}

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// get fetches path with headers and returns the status, body and header.
func (s *Server) get(t *testing.T, path string, headers map[string]string) (int, []byte, http.Header) {
	t.Helper()
	r := s.raw(t, "GET", path, "", "", headers)
	return r.status, []byte(r.body), r.header
}

// Issue 20's "done means", through the real HTTP endpoints, on each storage.
func TestPackagesFromUploadToTheCRM(t *testing.T) {
	for name, adjust := range packageStorages(t) {
		t.Run(name, func(t *testing.T) {
			s := NewWith(t, NewCache(t), adjust)
			w := &commerceWorld{s: s, dev: factory.Developer(t, s.Store), buyer: factory.Customer(t, s.Store), other: factory.Customer(t, s.Store)}
			w.conf = factory.Configuration(t, s.Store, w.dev.OrgID, factory.ConfigurationOptions{SaleMinor: 3_500_000})
			w.tokens = map[string]string{"anonymous": ""}
			copier := factory.Developer(t, s.Store)
			for role, a := range map[string]factory.Account{
				"buyer": w.buyer, "other customer": w.other, "developer": w.dev,
				"other developer": copier, "admin": factory.Admin(t, s.Store), "partner": factory.Partner(t, s.Store),
			} {
				w.tokens[role], _ = s.LogIn(t, a, nil)
			}
			if _, err := s.Pool.Exec(context.Background(), `with c as (insert into categories (slug, name) values ('sales', 'Sales') returning id)
				update configurations set category_id = (select id from c) where id = $1`, w.conf.ID); err != nil {
				t.Fatal(err)
			}
			release := func(number string) (string, []byte) {
				t.Helper()
				res := s.Do(t, w.tokens["developer"], `mutation($c: ID!, $n: String!) { createVersion(input: {configurationId: $c, number: $n, changelog: "next"}) { version { id } } }`,
					map[string]any{"c": globalIDOf("Configuration", w.conf.ID), "n": number})
				id := str(res.Data, "createVersion", "version", "id")
				// Nothing to submit before the package is there.
				sub := s.Do(t, w.tokens["developer"], `mutation($v: ID!) { submitVersion(input: {id: $v}) { userErrors { code } } }`, map[string]any{"v": id})
				if str(sub.Data, "submitVersion", "userErrors", 0, "code") != "PACKAGE_MISSING" {
					t.Fatalf("submit without a package: %s", sub.Raw)
				}
				body := s.uploadPackage(t, w.tokens["developer"], id)
				info := s.Do(t, w.tokens["developer"], `query($v: ID!) { node(id: $v) { ... on Version { package { sha256 size manifest { slug version platformVersion } problem downloadPath } } } }`, map[string]any{"v": id})
				if str(info.Data, "node", "package", "sha256") != sha(body) || get(info.Data, "node", "package", "size") != float64(len(body)) ||
					str(info.Data, "node", "package", "manifest", "version") != number || get(info.Data, "node", "package", "problem") != nil {
					t.Fatalf("version package: %s", info.Raw)
				}
				sub = s.Do(t, w.tokens["developer"], `mutation($v: ID!) { submitVersion(input: {id: $v}) { version { state } userErrors { code message } } }`, map[string]any{"v": id})
				if str(sub.Data, "submitVersion", "version", "state") != "IN_REVIEW" {
					t.Fatalf("submit: %s", sub.Raw)
				}
				// Frozen once submitted.
				if r := s.putPackage(t, w.tokens["developer"], id, factory.Package(w.conf.Slug, number, "changed")); r.status != 409 || !strings.Contains(r.body, "PACKAGE_FROZEN") {
					t.Fatalf("re-upload after submit: %d %s", r.status, r.body)
				}
				// The moderator downloads exactly the bytes, then approves.
				status, got, _ := s.get(t, "/packages/versions/"+id, map[string]string{"Authorization": "Bearer " + w.tokens["admin"]})
				if status != 200 || !bytes.Equal(got, body) {
					t.Fatalf("moderator download: %d, %d bytes", status, len(got))
				}
				for _, role := range []string{"anonymous", "other developer", "buyer"} {
					h := map[string]string{}
					if w.tokens[role] != "" {
						h["Authorization"] = "Bearer " + w.tokens[role]
					}
					if status, _, _ := s.get(t, "/packages/versions/"+id, h); status != 404 && (role != "anonymous" || status != 401) {
						t.Fatalf("%s downloads a version's package: %d", role, status)
					}
				}
				app := s.Do(t, w.tokens["admin"], `mutation($v: ID!) { approveVersion(input: {id: $v}) { version { state } userErrors { code } } }`, map[string]any{"v": id})
				if str(app.Data, "approveVersion", "version", "state") != "APPROVED" {
					t.Fatalf("approve: %s", app.Raw)
				}
				return id, body
			}
			v2ID, v2 := release("2.0.0")
			// Strangers see no package details of a version.
			for _, role := range []string{"anonymous", "buyer", "other developer", "partner"} {
				r := s.Do(t, w.tokens[role], `query($v: ID!) { node(id: $v) { ... on Version { number package { sha256 } } } }`, map[string]any{"v": v2ID})
				if r.Code() != "" || get(r.Data, "node", "package") != nil {
					t.Fatalf("%s sees the version's package: %s", role, r.Raw)
				}
			}
			if n := s.Count(t, "audit_log where action = 'uploadPackage' and target = '"+v2ID+"' and result = 'ok'"); n != 1 {
				t.Fatalf("%d audit rows for the upload, want 1", n)
			}

			// A renter and a buyer, paid, each with its CRM account.
			renterAccount, buyerAccount := w.crmAccount(t, w.buyer), w.crmAccount(t, w.other)
			rent := w.rent(t, w.tokens["buyer"], "rent-1")
			rentKey := str(rent.Data, "rentConfiguration", "installation", "licenseKey")
			current := func(key, account string, h map[string]string) (int, []byte, http.Header) {
				return s.get(t, "/packages/current?key="+url.QueryEscape(key)+"&accountId="+url.QueryEscape(account), h)
			}
			unknown, unknownBody, _ := current("CM-00000000000000000000", renterAccount, nil)
			if unknown != 404 {
				t.Fatalf("unknown key: %d", unknown)
			}
			// Unpaid: the same 404 as an unknown key.
			if status, body, _ := current(rentKey, renterAccount, nil); status != 404 || !bytes.Equal(body, unknownBody) {
				t.Fatalf("unpaid rental's package: %d %s", status, body)
			}
			if r := w.payByWebhook(t, "evt_pkg_rent", str(rent.Data, "rentConfiguration", "invoice", "id"), "500.00"); r.status != 200 {
				t.Fatal(r.body)
			}
			status, got, h := current(rentKey, renterAccount, nil)
			if status != 200 || sha(got) != sha(v2) || h.Get("ETag") != `"`+sha(v2)+`"` {
				t.Fatalf("renter's package: %d, %d bytes, ETag %s", status, len(got), h.Get("ETag"))
			}
			if status, _, _ := current(rentKey, renterAccount, map[string]string{"If-None-Match": h.Get("ETag")}); status != 304 {
				t.Fatalf("second fetch: %d, want 304", status)
			}
			if status, part, _ := current(rentKey, renterAccount, map[string]string{"Range": "bytes=0-9"}); status != 206 || !bytes.Equal(part, v2[:10]) {
				t.Fatalf("range: %d %d bytes", status, len(part))
			}
			// A stranger's key, or the right key from another account: 404, the same body.
			if status, body, _ := current(rentKey, buyerAccount, nil); status != 404 || !bytes.Equal(body, unknownBody) {
				t.Fatalf("key with another account: %d %s", status, body)
			}

			buy := s.Do(t, w.tokens["other customer"], `mutation($c: ID!) { buyConfiguration(input: {configurationId: $c, idempotencyKey: "buy-1"}) {
				installation { id licenseKey backupUrl } invoice { id } userErrors { code } } }`, map[string]any{"c": globalIDOf("Configuration", w.conf.ID)})
			buyKey := str(buy.Data, "buyConfiguration", "installation", "licenseKey")
			installation := str(buy.Data, "buyConfiguration", "installation", "id")
			if get(buy.Data, "buyConfiguration", "installation", "backupUrl") != nil {
				t.Fatalf("unpaid purchase has a backup: %s", buy.Raw)
			}
			if r := w.payByWebhook(t, "evt_pkg_buy", str(buy.Data, "buyConfiguration", "invoice", "id"), "35000.00"); r.status != 200 {
				t.Fatal(r.body)
			}
			backupQuery := `query($i: ID!) { node(id: $i) { ... on Installation { backupUrl packageDownloads } } }`
			backup := s.Do(t, w.tokens["other customer"], backupQuery, map[string]any{"i": installation})
			link := str(backup.Data, "node", "backupUrl")
			if !strings.HasPrefix(link, "/packages/backups/") {
				t.Fatalf("paid purchase's backup: %s", backup.Raw)
			}
			if status, got, _ := s.get(t, link, nil); status != 200 || sha(got) != sha(v2) {
				t.Fatalf("backup download: %d", status)
			}
			for _, role := range []string{"developer", "admin", "buyer"} {
				if r := s.Do(t, w.tokens[role], backupQuery, map[string]any{"i": installation}); get(r.Data, "node", "backupUrl") != nil {
					t.Fatalf("%s got the buyer's backup link: %s", role, r.Raw)
				}
			}
			if status, _, _ := s.get(t, link[:len(link)-2]+"AA", nil); status != 404 {
				t.Fatalf("altered backup link: %d", status)
			}
			// Short-lived: 15 minutes on, the link is gone (a new one is
			// issued on demand).
			s.Clock.Advance(15 * time.Minute)
			if status, _, _ := s.get(t, link, nil); status != 404 {
				t.Fatalf("backup link after 15 minutes: %d", status)
			}
			fresh := str(s.Do(t, w.tokens["other customer"], backupQuery, map[string]any{"i": installation}).Data, "node", "backupUrl")
			if status, _, _ := s.get(t, fresh, nil); fresh == link || status != 200 {
				t.Fatalf("a new backup link: %d", status)
			}

			// The next approval: the renter's CRM gets the new package, the
			// buyer keeps its frozen one.
			_, v21 := release("2.1.0")
			if status, got, _ := current(rentKey, renterAccount, map[string]string{"If-None-Match": h.Get("ETag")}); status != 200 || sha(got) != sha(v21) {
				t.Fatalf("renter after the update: %d, %d bytes", status, len(got))
			}
			if status, got, _ := current(buyKey, buyerAccount, nil); status != 200 || sha(got) != sha(v2) {
				t.Fatalf("buyer after the update: %d", status)
			}
			// Every fetch counted per installation, seen by the developer.
			counted := s.Do(t, w.tokens["developer"], backupQuery, map[string]any{"i": installation})
			if get(counted.Data, "node", "packageDownloads") != float64(1) {
				t.Fatalf("downloads: %s", counted.Raw)
			}
			for _, role := range []string{"anonymous", "buyer", "other developer", "partner"} {
				r := s.Do(t, w.tokens[role], backupQuery, map[string]any{"i": installation})
				if get(r.Data, "node", "packageDownloads") != nil || get(r.Data, "node", "backupUrl") != nil {
					t.Fatalf("%s sees another's installation downloads or backup: %s", role, r.Raw)
				}
			}

			// Another developer uploading the same bytes is refused.
			copyTok := w.tokens["other developer"]
			mine := factory.Configuration(t, s.Store, copier.OrgID, factory.ConfigurationOptions{State: "draft"})
			draft := s.Do(t, copyTok, `query($c: ID!) { node(id: $c) { ... on Configuration { versions { nodes { id } } } } }`, map[string]any{"c": globalIDOf("Configuration", mine.ID)})
			draftID := str(draft.Data, "node", "versions", "nodes", 0, "id")
			if r := s.putPackage(t, copyTok, draftID, v2); r.status != 409 || !strings.Contains(r.body, "COPIED_PACKAGE") {
				t.Fatalf("copied package: %d %s", r.status, r.body)
			}
			// Someone else's version does not exist for the uploader.
			if r := s.putPackage(t, copyTok, globalIDOf("Version", mustVersion(t, s, w.conf.ID)), factory.Package("x", "9.9.9")); r.status != 404 {
				t.Fatalf("upload for another developer's version: %d %s", r.status, r.body)
			}
			if r := s.putPackage(t, "", draftID, factory.Package(mine.Slug, "1.0.0")); r.status != 404 && r.status != 401 {
				t.Fatalf("anonymous upload: %d %s", r.status, r.body)
			}
		})
	}
}

func mustVersion(t *testing.T, s *Server, configurationID uuid.UUID) (id uuid.UUID) {
	t.Helper()
	if err := s.Pool.QueryRow(context.Background(), `select id from versions where configuration_id = $1 order by created_at limit 1`, configurationID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// An oversized body is cut at the limit with 413 and nothing stored; a
// broken archive is stored with its problem and refused on submit.
func TestPackageLimitsAndBrokenArchives(t *testing.T) {
	s := NewWith(t, NewCache(t), func(d *app.Deps) {
		d.PackageRules = packages.Rules{MaxSize: 4096, BackupLinkTTL: packages.DefaultRules.BackupLinkTTL}
	})
	dev := factory.Developer(t, s.Store)
	tok, _ := s.LogIn(t, dev, nil)
	conf := factory.Configuration(t, s.Store, dev.OrgID, factory.ConfigurationOptions{State: "draft"})
	v := globalIDOf("Version", mustVersion(t, s, conf.ID))
	before := s.Count(t, "blob_chunks")
	big := bytes.Repeat([]byte("x"), 5000)
	if r := s.putPackage(t, tok, v, big); r.status != 413 {
		t.Fatalf("oversized: %d %s", r.status, r.body)
	}
	// Streamed without a length: still cut at the limit.
	req, _ := http.NewRequest("PUT", s.URL+"/packages/versions/"+v, io.MultiReader(bytes.NewReader(big)))
	req.ContentLength = -1
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Fatalf("oversized stream: %d", res.StatusCode)
	}
	if n := s.Count(t, "blob_chunks"); n != before {
		t.Fatalf("an oversized upload left %d chunks", n-before)
	}
	if n := s.Count(t, "version_packages"); n != 0 {
		t.Fatalf("an oversized upload recorded a package")
	}
	for name, body := range map[string][]byte{
		"not an archive":         []byte("hello"),
		"manifest of another":    factory.Package("someone-else", "1.0.0"),
		"manifest of another v.": factory.Package(conf.Slug, "3.0.0"),
	} {
		if r := s.putPackage(t, tok, v, body); r.status != 200 {
			t.Fatalf("%s: upload %d %s", name, r.status, r.body)
		}
		sub := s.Do(t, tok, `mutation($v: ID!) { submitVersion(input: {id: $v}) { userErrors { code } } }`, map[string]any{"v": v})
		codes := sub.Raw
		want := "PACKAGE_MANIFEST_MISMATCH"
		if name == "not an archive" {
			want = "PACKAGE_MALFORMED"
		}
		if !strings.Contains(codes, want) {
			t.Fatalf("%s: submit %s, want %s", name, codes, want)
		}
	}
	// Re-uploading a draft replaces its package: one record, the old bytes gone.
	if n := s.Count(t, "version_packages"); n != 1 {
		t.Fatalf("%d package records after three uploads", n)
	}
	if n := s.Count(t, "blobs"); n != 1 {
		t.Fatalf("%d stored objects after three uploads, want 1", n)
	}
}

// A page of versions reads their packages in one batch: the statements a
// developer's page takes do not grow with the number of versions.
func TestVersionPackagesAreReadInOneBatch(t *testing.T) {
	s := New(t)
	dev := factory.Developer(t, s.Store)
	tok, _ := s.LogIn(t, dev, nil)
	statements := func(n int) int64 {
		t.Helper()
		conf := factory.Configuration(t, s.Store, dev.OrgID, factory.ConfigurationOptions{State: "draft"})
		confID := globalIDOf("Configuration", conf.ID)
		for i := 1; i < n; i++ {
			res := s.Do(t, tok, `mutation($c: ID!, $n: String!) { createVersion(input: {configurationId: $c, number: $n}) { version { id } } }`,
				map[string]any{"c": confID, "n": fmt.Sprintf("1.%d.0", i)})
			s.uploadPackage(t, tok, str(res.Data, "createVersion", "version", "id"))
		}
		s.uploadPackage(t, tok, globalIDOf("Version", mustVersion(t, s, conf.ID)))
		q := `query($c: ID!) { node(id: $c) { ... on Configuration { versions(first: 20) { nodes { number package { sha256 } } } } } }`
		before := s.Counter.Count()
		res := s.Do(t, tok, q, map[string]any{"c": confID})
		after := s.Counter.Count()
		nodes, _ := get(res.Data, "node", "versions", "nodes").([]any)
		if len(nodes) != n || str(nodes[0], "package", "sha256") == "" {
			t.Fatalf("%d versions: %s", n, res.Raw)
		}
		return after - before
	}
	if one, five := statements(1), statements(5); five != one {
		t.Fatalf("a page of 5 versions took %d statements, of 1 took %d: packages are read one by one", five, one)
	}
}
