package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/google/uuid"

	"configmarket/internal/benchdata"
)

// session is a logged-in bench user.
type session struct {
	email string
	token string
	org   uuid.UUID // the customer, developer or partner it acts for
}

func sessionOrgs(ss []session) []uuid.UUID {
	out := make([]uuid.UUID, len(ss))
	for i, s := range ss {
		out[i] = s.org
	}
	return out
}

const logInMutation = `mutation ($in: LogInInput!) { logIn(input: $in) {
	session { accessToken } userErrors { code message } } }`

// logIn signs the users in through the API, as clients do (argon2id per
// login, so a few at a time).
func logIn(ctx context.Context, url string, emails []string, role string, orgs []uuid.UUID) ([]session, error) {
	out := make([]session, len(emails))
	errs := make([]error, len(emails))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, email := range emails {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			body, _ := json.Marshal(map[string]any{"query": logInMutation, "variables": map[string]any{
				"in": map[string]any{"email": email, "password": benchdata.Password, "role": role}}})
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			// Each login from its own address: the per-IP login limits
			// are not what is measured.
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.200.%d.%d", i/256%256, i%256))
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer res.Body.Close()
			var r struct {
				Data struct {
					LogIn struct {
						Session    *struct{ AccessToken string }
						UserErrors []struct{ Code, Message string }
					}
				}
				Errors []struct{ Message string }
			}
			if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
				errs[i] = err
				return
			}
			if r.Data.LogIn.Session == nil {
				errs[i] = fmt.Errorf("log in %s: %+v %+v", email, r.Errors, r.Data.LogIn.UserErrors)
				return
			}
			out[i] = session{email: email, token: r.Data.LogIn.Session.AccessToken, org: orgs[i]}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// benchID is the deterministic id the generator gave row n of a kind.
func benchID(kind string, n int) uuid.UUID {
	return uuid.UUID(md5.Sum(fmt.Appendf(nil, "%s:%d", kind, n)))
}
