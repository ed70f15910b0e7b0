package login

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// clockLeeway is how far the provider's clock may be ahead of or behind
// ours: an iat up to this far in the future is accepted, and a token stays
// valid this long after its exp.
const clockLeeway = 60 * time.Second

// Names of the ID token rules of checkIDToken, as idTokenError.rule.
const (
	ruleAzp    = "azp"
	ruleSub    = "sub"
	ruleIat    = "iat"
	ruleExp    = "exp"
	ruleNbf    = "nbf"
	ruleNonce  = "nonce"
	ruleAtHash = "at_hash"
)

// idTokenError says which rule an ID token broke. Its text names the rule
// and the claims involved, never the token itself.
type idTokenError struct {
	rule, msg string
}

func (e *idTokenError) Error() string { return "login: id token: " + e.rule + ": " + e.msg }

// idTokenWant is what checkIDToken holds an ID token to.
type idTokenWant struct {
	ClientID    string
	Nonce       string // the nonce of this sign-in's authorization request
	AccessToken string // issued with the ID token, for at_hash
	Now         time.Time
}

// checkIDToken applies the rules of OpenID Connect Core §3.1.3.7 that
// go-oidc's Verify leaves to its caller, to a token that Verify accepted
// (signature by a published key with RS256 or ES256, iss equal to the
// issuer, aud containing the client id) with SkipExpiryCheck:
//
//   - several audiences require azp (item 4), and an azp present must be
//     the client id (item 5);
//   - sub is present and not empty (§2);
//   - exp is present and now is before exp + clockLeeway (item 9);
//   - iat is present and not after now + clockLeeway (item 10);
//   - nbf, when present, is not after now + clockLeeway;
//   - nonce equals the sign-in's, compared in constant time (item 11);
//   - at_hash, when present, matches the access token (§3.1.3.8, §3.2.2.9).
func checkIDToken(idt *oidc.IDToken, want idTokenWant) error {
	var c struct {
		Azp *string  `json:"azp"`
		Iat *float64 `json:"iat"`
		Exp *float64 `json:"exp"`
		Nbf *float64 `json:"nbf"`
	}
	if err := idt.Claims(&c); err != nil {
		return &idTokenError{"claims", fmt.Sprintf("unreadable: %v", err)}
	}
	switch {
	case c.Azp != nil && *c.Azp != want.ClientID:
		return &idTokenError{ruleAzp, fmt.Sprintf("issued to %q, not this client", *c.Azp)}
	case len(idt.Audience) > 1 && c.Azp == nil:
		return &idTokenError{ruleAzp, fmt.Sprintf("%d audiences and no azp", len(idt.Audience))}
	case !slices.Contains(idt.Audience, want.ClientID):
		// go-oidc checks this; kept so the rule holds on its own.
		return &idTokenError{"aud", "does not contain this client"}
	case idt.Subject == "":
		return &idTokenError{ruleSub, "missing or empty"}
	}
	now := want.Now
	exp, ok := unixTime(c.Exp)
	switch {
	case c.Exp == nil:
		return &idTokenError{ruleExp, "missing"}
	case !ok:
		return &idTokenError{ruleExp, "not a time"}
	case !now.Before(exp.Add(clockLeeway)):
		return &idTokenError{ruleExp, fmt.Sprintf("expired at %s, now is %s", exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))}
	}
	iat, ok := unixTime(c.Iat)
	switch {
	case c.Iat == nil:
		return &idTokenError{ruleIat, "missing"}
	case !ok:
		return &idTokenError{ruleIat, "not a time"}
	case iat.After(now.Add(clockLeeway)):
		return &idTokenError{ruleIat, fmt.Sprintf("issued at %s, %v in the future", iat.UTC().Format(time.RFC3339), iat.Sub(now))}
	}
	if c.Nbf != nil {
		nbf, ok := unixTime(c.Nbf)
		if !ok || nbf.After(now.Add(clockLeeway)) {
			return &idTokenError{ruleNbf, "not yet valid"}
		}
	}
	if want.Nonce == "" || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(want.Nonce)) != 1 {
		return &idTokenError{ruleNonce, "does not match the sign-in's"}
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(want.AccessToken); err != nil {
			return &idTokenError{ruleAtHash, "does not match the access token"}
		}
	}
	return nil
}

// unixTime converts a NumericDate (RFC 7519 §2), false when it is not a
// finite number in range.
func unixTime(f *float64) (time.Time, bool) {
	if f == nil || math.IsNaN(*f) || math.IsInf(*f, 0) || *f < 0 || *f > 1<<40 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(*f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

// flexBool is a JSON boolean that also accepts "true" and "false" as
// strings, as some providers send email_verified.
type flexBool bool

// UnmarshalJSON implements json.Unmarshaler.
func (b *flexBool) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	switch v := v.(type) {
	case bool:
		*b = flexBool(v)
	case string:
		switch v {
		case "true":
			*b = true
		case "false":
			*b = false
		default:
			return fmt.Errorf("login: %q is not a boolean", v)
		}
	case nil:
		*b = false
	default:
		return fmt.Errorf("login: %s is not a boolean", data)
	}
	return nil
}
