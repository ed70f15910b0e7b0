package mockidp_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/idpkit/idpkit/mockidp"
	"github.com/idpkit/idpkit/mockidp/op"
)

// A test starts the mock Okta, creates a user through the management API
// exactly as a script written for Okta would, and reads it back.
func ExampleNewServer() {
	srv := mockidp.NewServer()
	defer srv.Close()

	body := `{"profile":{"login":"alice@example.com","email":"alice@example.com","firstName":"Alice","lastName":"Example"},
	          "credentials":{"password":{"value":"Correct-Horse-9"}}}`
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/users?activate=true", strings.NewReader(body))
	req.Header.Set("Authorization", "SSWS "+srv.APIToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var user struct {
		ID      string `json:"id"`
		Status  string `json:"status"`
		Profile struct {
			Login string `json:"login"`
		} `json:"profile"`
	}
	json.NewDecoder(resp.Body).Decode(&user)

	u, _ := srv.Directory().User(user.ID)
	fmt.Println(resp.StatusCode, user.Status, user.Profile.Login, strings.HasPrefix(user.ID, "00u"))
	fmt.Println(u.Profile.FirstName, srv.Issuer("") == srv.URL, srv.Issuer("default") == srv.URL+"/oauth2/default")
	// Output:
	// 200 ACTIVE alice@example.com true
	// Alice true true
}

// signIn is what a relying party does in a test: the authorization code
// flow with PKCE, redirects not followed; it returns the ID token's
// claims, unverified.
func signIn(srv *mockidp.Server, clientID, secret, redirectURI string) (map[string]any, string, error) {
	verifier := rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"client_id": {clientID}, "redirect_uri": {redirectURI}, "response_type": {"code"}, "scope": {"openid profile email"},
		"state": {"st"}, "nonce": {"n"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	hc := &http.Client{Transport: srv.Client().Transport, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(srv.URL + "/oauth2/v1/authorize?" + q.Encode())
	if err != nil {
		return nil, "", err
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		return nil, "", fmt.Errorf("authorize: %d, no code", resp.StatusCode)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	req, _ := http.NewRequest("POST", srv.URL+"/oauth2/v1/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err = hc.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	var tok struct {
		IDToken string `json:"id_token"`
	}
	json.NewDecoder(resp.Body).Decode(&tok)
	parts := strings.Split(tok.IDToken, ".")
	if len(parts) != 3 {
		return nil, "", fmt.Errorf("token: %d, no ID token", resp.StatusCode)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	claims := map[string]any{}
	json.Unmarshal(payload, &claims)
	return claims, tok.IDToken, nil
}

// A test queues the user the next login signs in, with an extra claim:
// the authorize request redirects with a code at once, without the login
// form, and the ID token carries the claim.
func ExampleServer_QueueLogin() {
	srv := mockidp.NewServer()
	defer srv.Close()
	alice, _ := srv.AddUser(mockidp.SeedUser{Login: "alice@example.com", FirstName: "Alice", LastName: "Example", Password: "Correct-Horse-9"})
	app, _ := srv.AddApp(mockidp.SeedApp{Label: "My app", Type: mockidp.SeedAppOIDC, RedirectURIs: []string{"http://127.0.0.1:1/callback"}})
	client := app.OAuthClient

	err := srv.QueueLogin(op.QueuedLogin{Login: "alice@example.com", Claims: map[string]any{"department": "R&D"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	claims, _, err := signIn(srv, client.ClientID, client.ClientSecret, "http://127.0.0.1:1/callback")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(claims["sub"] == alice.ID, claims["aud"] == client.ClientID)
	fmt.Println(claims["preferred_username"], claims["department"])
	// Output:
	// true true
	// alice@example.com R&D
}

// A test arms a fault and checks that the relying party refuses the token
// it causes; here go-oidc's verifier stands for the relying party. The
// fault is one-shot: the login after it gets a good token again.
func ExampleServer_ArmFault() {
	srv := mockidp.NewServer()
	defer srv.Close()
	srv.AddUser(mockidp.SeedUser{Login: "alice@example.com", FirstName: "Alice", LastName: "Example", Password: "Correct-Horse-9"})
	app, _ := srv.AddApp(mockidp.SeedApp{Label: "My app", Type: mockidp.SeedAppOIDC, RedirectURIs: []string{"http://127.0.0.1:1/callback"}})
	client := app.OAuthClient

	ctx := oidc.ClientContext(context.Background(), srv.Client())
	provider, err := oidc.NewProvider(ctx, srv.Issuer(""))
	if err != nil {
		fmt.Println(err)
		return
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: client.ClientID})

	if err := srv.ArmFault("wrong-aud", false); err != nil {
		fmt.Println(err)
		return
	}
	for _, when := range []string{"with wrong-aud armed", "on the next login"} {
		srv.QueueLogin(op.QueuedLogin{Login: "alice@example.com"})
		_, raw, err := signIn(srv, client.ClientID, client.ClientSecret, "http://127.0.0.1:1/callback")
		if err != nil {
			fmt.Println(err)
			return
		}
		_, err = verifier.Verify(ctx, raw)
		fmt.Printf("%s: the relying party accepts the ID token: %v\n", when, err == nil)
	}
	fmt.Println(srv.ArmFault("no-such-fault", false) != nil)
	// Output:
	// with wrong-aud armed: the relying party accepts the ID token: false
	// on the next login: the relying party accepts the ID token: true
	// true
}
