package op

import (
	"crypto"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
	"github.com/go-jose/go-jose/v4/jwt"
)

// This file holds the provider's faults: deliberate misbehaviour, armed
// one-shot or sticky, for testing relying parties. The rules (what uses a
// fault up, how faults combine, how long the JWKS stays changed) are in
// the doc comment of ArmFault.

// ErrUnknownFault is returned by ArmFault for a name FaultNames does not list.
var ErrUnknownFault = errors.New("op: unknown fault")

// FaultInfo describes one fault.
type FaultInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Module is the OpenID Foundation RP conformance test module the fault
	// reproduces, when there is one (e.g. "rp-id_token-bad-sig-rs256").
	Module string `json:"module"`
	// Expect is what a correct relying party does: "refuse", "accept" or
	// "either" (refuse or accept, but never a server error).
	Expect string `json:"expect"`
}

// Fault is an armed fault.
type Fault struct {
	Name   string `json:"name"`
	Sticky bool   `json:"sticky"`
}

// What a relying party does with a fault (FaultInfo.Expect).
const (
	expectRefuse = "refuse"
	expectAccept = "accept"
	expectEither = "either"
)

// Fault names, as FaultNames lists them.
const (
	faultInvalidSignature  = "invalid-signature"
	faultAlgNone           = "alg-none"
	faultHS256             = "hs256-client-secret"
	faultWrongIss          = "wrong-iss"
	faultWrongAud          = "wrong-aud"
	faultMissingAud        = "missing-aud"
	faultMissingSub        = "missing-sub"
	faultMissingIat        = "missing-iat"
	faultIatFuture         = "iat-future"
	faultIatSkewSmall      = "iat-skew-small"
	faultExpired           = "expired"
	faultWrongNonce        = "wrong-nonce"
	faultKidAbsentSingle   = "kid-absent-single-jwks"
	faultKidAbsentMultiple = "kid-absent-multiple-jwks"
	faultKeyRotation       = "key-rotation-op-sign-key"
	faultKidUnpublished    = "kid-unpublished"
	faultAudArrayNoAzp     = "aud-array-no-azp"
	faultWrongAzp          = "wrong-azp"
	faultWrongAtHash       = "wrong-at-hash"
	faultUserinfoSub       = "userinfo-sub-mismatch"
	faultJWKSSecp256k1     = "jwks-secp256k1-key"
	faultJWKSOKP           = "jwks-okp-key"
	faultJWKSUnparseable   = "jwks-unparseable-key"
	faultTokenServerError  = "token-server-error"
	faultTokenInvalidGrant = "token-invalid-grant"
	faultSlowToken         = "slow-token"
	faultSlowKeys          = "slow-keys"
)

// Values the faults put into tokens, documented in ArmFault.
const (
	// hs256PublicSecret is the HMAC key of hs256-client-secret for a
	// client without a secret (a public client).
	hs256PublicSecret = "mockokta-hs256-public-client-secret"
	// otherIssuerHost replaces the issuer's host for wrong-iss.
	otherIssuerHost = "issuer-mismatch.invalid"
	// otherClientPrefix and otherUserPrefix start the made-up ids of
	// another client (wrong-aud, wrong-azp, aud-array-no-azp) and another
	// user (userinfo-sub-mismatch); 12 random characters follow.
	otherClientPrefix = "0oaOther"
	otherUserPrefix   = "00uOther"
	// slowFaultDelay is how late slow-token and slow-keys answer.
	slowFaultDelay = 3 * time.Second
)

// The kids of the extra keys the jwks-* faults publish.
const (
	kidSecp256k1   = "fault-secp256k1"
	kidOKP         = "fault-ed25519"
	kidUnparseable = "fault-unparseable"
)

// faultKind says where a fault acts.
type faultKind int

const (
	kindClaims   faultKind = iota // changes ID token claims
	kindSigner                    // replaces the ID token's signer
	kindJWKS                      // adds a key to the JWKS; the token is signed normally
	kindUserinfo                  // changes the UserInfo body
	kindQueued                    // handed to QueueError
)

// faultDef is one fault of FaultNames.
type faultDef struct {
	info FaultInfo
	kind faultKind
	// jwks marks faults that change the JWKS while armed and lingering.
	jwks bool
	// claims changes an ID token's claims (kindClaims).
	claims func(p *Provider, c map[string]any)
	// signer returns the ID token's signer (kindSigner); fs.mu is held.
	signer func(p *Provider, fs *faultSet, client Client) (func(map[string]any) (string, error), error)
	// extraKey is the JWK the fault adds to the JWKS (kindJWKS).
	extraKey func() json.RawMessage
	// queued is the error or delay the fault queues (kindQueued).
	queued QueuedError
}

// faultDefs lists the faults in FaultNames order. It is never modified.
var faultDefs = []*faultDef{
	{info: FaultInfo{faultInvalidSignature, "The ID token is signed as usual, then bytes of its signature are altered, so it no longer verifies.", "rp-id_token-bad-sig-rs256", expectRefuse},
		kind: kindSigner, signer: func(p *Provider, _ *faultSet, client Client) (func(map[string]any) (string, error), error) {
			sign, err := p.idTokenSigner(client)
			if err != nil {
				return nil, err
			}
			return func(c map[string]any) (string, error) {
				raw, err := sign(c)
				if err != nil {
					return "", err
				}
				return corruptSignature(raw)
			}, nil
		}},
	{info: FaultInfo{faultAlgNone, `The ID token is unsigned: its header is {"alg":"none","typ":"JWT"} with no kid, and its signature is empty.`, "rp-id_token-sig-none", expectRefuse},
		kind: kindSigner, signer: func(*Provider, *faultSet, Client) (func(map[string]any) (string, error), error) {
			return func(c map[string]any) (string, error) { return compactJWT("none", c, nil) }, nil
		}},
	{info: FaultInfo{faultHS256, "The ID token is signed with HS256 using the client secret as the HMAC key (a fixed key for a public client), with no kid.", "rp-id_token-sig-hs256", expectRefuse},
		kind: kindSigner, signer: func(_ *Provider, _ *faultSet, client Client) (func(map[string]any) (string, error), error) {
			secret := client.Secret
			if secret == "" {
				secret = hs256PublicSecret
			}
			return func(c map[string]any) (string, error) {
				return compactJWT("HS256", c, func(input []byte) []byte {
					m := hmac.New(sha256.New, []byte(secret))
					m.Write(input)
					return m.Sum(nil)
				})
			}, nil
		}},
	{info: FaultInfo{faultWrongIss, "The ID token's iss names another issuer, on a different host, instead of this authorization server.", "rp-id_token-issuer-mismatch", expectRefuse},
		kind: kindClaims, claims: func(_ *Provider, c map[string]any) {
			iss, _ := c["iss"].(string)
			c["iss"] = otherIssuer(iss)
		}},
	{info: FaultInfo{faultWrongAud, "The ID token's aud is another client's id instead of the relying party's.", "rp-id_token-aud", expectRefuse},
		kind: kindClaims, claims: func(_ *Provider, c map[string]any) { c["aud"] = otherID(otherClientPrefix) }},
	{info: FaultInfo{faultMissingAud, "The ID token has no aud claim.", "", expectRefuse},
		kind: kindClaims, claims: func(_ *Provider, c map[string]any) { delete(c, "aud") }},
	{info: FaultInfo{faultMissingSub, "The ID token has no sub claim.", "rp-id_token-sub", expectRefuse},
		kind: kindClaims, claims: func(_ *Provider, c map[string]any) { delete(c, "sub") }},
	{info: FaultInfo{faultMissingIat, "The ID token has no iat claim.", "rp-id_token-iat", expectRefuse},
		kind: kindClaims, claims: func(_ *Provider, c map[string]any) { delete(c, "iat") }},
	{info: FaultInfo{faultIatFuture, "The ID token's iat is one hour ahead of now and its exp one hour after that; auth_time is unchanged.", "", expectRefuse},
		kind: kindClaims, claims: func(p *Provider, c map[string]any) {
			iat := p.now().Add(time.Hour)
			c["iat"], c["exp"] = iat.Unix(), iat.Add(tokenLifetime).Unix()
		}},
	{info: FaultInfo{faultIatSkewSmall, "The ID token's iat, auth_time and exp are 30 seconds ahead, a clock skew any relying party's leeway should absorb.", "", expectAccept},
		kind: kindClaims, claims: func(_ *Provider, c map[string]any) {
			for _, k := range []string{"iat", "auth_time", "exp"} {
				switch v := c[k].(type) {
				case int64:
					c[k] = v + 30
				case int:
					c[k] = v + 30
				case float64:
					c[k] = v + 30
				}
			}
		}},
	{info: FaultInfo{faultExpired, "The ID token was issued two hours ago and expired one hour ago.", "", expectRefuse},
		kind: kindClaims, claims: func(p *Provider, c map[string]any) {
			now := p.now()
			c["iat"], c["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
		}},
	{info: FaultInfo{faultWrongNonce, "The ID token's nonce is a fresh random value, not the one the authorization request sent.", "rp-nonce-invalid", expectRefuse},
		kind: kindClaims, claims: func(_ *Provider, c map[string]any) { c["nonce"] = randomID(32) }},
	{info: FaultInfo{faultKidAbsentSingle, "The ID token has no kid and the JWKS holds only the key that signed it.", "rp-id_token-kid-absent-single-jwks", expectAccept},
		kind: kindSigner, jwks: true, signer: noKidSigner},
	{info: FaultInfo{faultKidAbsentMultiple, "The ID token has no kid while the JWKS holds several keys.", "rp-id_token-kid-absent-multiple-jwks", expectEither},
		kind: kindSigner, signer: noKidSigner},
	{info: FaultInfo{faultKeyRotation, "A new key appears in the JWKS when the fault is armed and signs the ID token at once, so a relying party with a cached JWKS must refetch it.", "rp-key-rotation-op-sign-key", expectAccept},
		kind: kindSigner, jwks: true, signer: rotationSigner},
	{info: FaultInfo{faultKidUnpublished, "The ID token is signed by a key that is never published, under a kid the JWKS does not hold.", "", expectRefuse},
		kind: kindSigner, signer: func(_ *Provider, fs *faultSet, _ Client) (func(map[string]any) (string, error), error) {
			if fs.hidden == nil {
				k, err := newFaultKey()
				if err != nil {
					return nil, err
				}
				fs.hidden = k
			}
			return fs.hidden.sign, nil
		}},
	{info: FaultInfo{faultAudArrayNoAzp, "The ID token's aud is an array of the relying party's client id and another client's, and it has no azp.", "", expectRefuse},
		kind: kindClaims, claims: func(_ *Provider, c map[string]any) {
			aud, _ := c["aud"].(string)
			c["aud"] = []string{aud, otherID(otherClientPrefix)}
			delete(c, "azp")
		}},
	{info: FaultInfo{faultWrongAzp, "The ID token carries an azp naming another client.", "", expectRefuse},
		kind: kindClaims, claims: func(_ *Provider, c map[string]any) { c["azp"] = otherID(otherClientPrefix) }},
	{info: FaultInfo{faultWrongAtHash, "The ID token's at_hash is the hash of a different access token.", "rp-id_token-bad-at_hash", expectRefuse},
		kind: kindClaims, claims: func(_ *Provider, c map[string]any) { c["at_hash"] = atHash("AT." + randomID(43)) }},
	{info: FaultInfo{faultUserinfoSub, "UserInfo answers with another user's sub, different from the ID token's.", "rp-userinfo-bad-sub-claim", expectRefuse},
		kind: kindUserinfo},
	{info: FaultInfo{faultJWKSSecp256k1, "The JWKS holds an extra EC key on the secp256k1 curve (alg ES256K) besides the keys that sign.", "", expectAccept},
		kind: kindJWKS, jwks: true, extraKey: secp256k1JWK},
	{info: FaultInfo{faultJWKSOKP, "The JWKS holds an extra OKP key on Ed25519 (alg EdDSA) besides the keys that sign.", "", expectAccept},
		kind: kindJWKS, jwks: true, extraKey: okpJWK},
	{info: FaultInfo{faultJWKSUnparseable, `The JWKS holds an extra RSA key whose modulus "n" is not base64url, besides the keys that sign.`, "", expectAccept},
		kind: kindJWKS, jwks: true, extraKey: unparseableJWK},
	{info: FaultInfo{faultTokenServerError, "The token endpoint answers 500 server_error.", "", expectRefuse},
		kind: kindQueued, queued: QueuedError{Endpoint: EndpointToken, Status: http.StatusInternalServerError, Error: "server_error",
			Description: "The authorization server encountered an unexpected internal error."}},
	{info: FaultInfo{faultTokenInvalidGrant, "The token endpoint answers 400 invalid_grant.", "", expectRefuse},
		kind: kindQueued, queued: QueuedError{Endpoint: EndpointToken, Status: http.StatusBadRequest, Error: errInvalidGrant, Description: codeInvalid}},
	{info: FaultInfo{faultSlowToken, "The token endpoint answers normally, but 3 seconds late.", "", expectAccept},
		kind: kindQueued, queued: QueuedError{Endpoint: EndpointToken, Delay: slowFaultDelay}},
	{info: FaultInfo{faultSlowKeys, "The keys endpoint answers normally, but 3 seconds late.", "", expectAccept},
		kind: kindQueued, queued: QueuedError{Endpoint: EndpointKeys, Delay: slowFaultDelay}},
}

// FaultNames lists every fault the provider knows, in a fixed order.
func FaultNames() []FaultInfo {
	out := make([]FaultInfo, len(faultDefs))
	for i, d := range faultDefs {
		out[i] = d.info
	}
	return out
}

func lookupFault(name string) *faultDef {
	for _, d := range faultDefs {
		if d.info.Name == name {
			return d
		}
	}
	return nil
}

// armedFault is one entry of the armed list.
type armedFault struct {
	def    *faultDef
	sticky bool
}

// faultSet is a provider's fault state.
type faultSet struct {
	// queueMu serialises arming and disarming the faults that are entries
	// of the error queue (armQueued, DisarmFaults): two goroutines arming
	// the same one-shot fault must queue it once, not twice. It is taken
	// before mu and the queue's own mutex, never while holding them.
	queueMu sync.Mutex
	mu      sync.Mutex
	armed   []*armedFault // in arming order
	// lingering are used-up one-shot faults whose JWKS change stays until
	// the next ArmFault or DisarmFaults.
	lingering []*faultDef
	// rotKeys are the keys key-rotation-op-sign-key published (at most
	// two, newest last); rotFresh says the newest has not signed yet.
	rotKeys  []*faultKey
	rotFresh bool
	// hidden is kid-unpublished's key: generated once, never published.
	hidden *faultKey
}

// faultState returns p's fault state.
func (p *Provider) faultState() *faultSet { return &p.fault }

// ArmFault arms a fault: one-shot (used up by the first response it
// changes) unless sticky. An unknown name gives an error wrapping
// ErrUnknownFault that lists the known names.
//
// What uses a one-shot fault up:
//   - a fault on the ID token's claims or signature (every one from
//     invalid-signature to wrong-at-hash in FaultNames): the first ID
//     token it changes (authorization_code or refresh_token grant, any
//     client, any authorization server);
//   - jwks-secp256k1-key, jwks-okp-key, jwks-unparseable-key: the first ID
//     token minted while they are armed, the token the relying party then
//     verifies against the changed JWKS (fetching the JWKS does not use
//     them up);
//   - userinfo-sub-mismatch: the first successful UserInfo response;
//   - token-server-error, token-invalid-grant, slow-token, slow-keys: they
//     are entries of the error queue (QueueError, any authorization
//     server), used up by the next request to their endpoint (token or
//     keys; preflights do not count). A sticky one shadows errors queued
//     after it for the same endpoint, as the queue's sticky entries do.
//
// A sticky fault is never used up; it stays until DisarmFaults.
//
// The JWKS. Faults that change it (kid-absent-single-jwks,
// key-rotation-op-sign-key, jwks-*-key) change it from the moment they
// are armed: an RP that fetches the JWKS before or after receiving the
// token sees the same changed set. After a one-shot one is used up its
// change lingers until the next call of ArmFault (any name) or
// DisarmFaults; then the JWKS is the normal one again. The changes are:
//   - kid-absent-single-jwks: only the RSA key that signs now, its kid
//     kept (the relying party must pick the only key without a kid in the
//     token); tokens are signed by that key without a kid header;
//   - key-rotation-op-sign-key: a freshly generated RSA key (kid its
//     RFC 7638 thumbprint) is added when the fault is armed and signs the
//     next ID token; a sticky one generates and publishes another key for
//     every later ID token (at most the two newest stay published). The
//     keys are extra: the provider's own keys stay published and keep
//     signing the other tokens (access tokens, and ID tokens once the
//     fault is used up), so a relying party that refetches the JWKS keeps
//     working after DisarmFaults removes the extra keys;
//   - jwks-secp256k1-key, jwks-okp-key, jwks-unparseable-key: one extra
//     key object each, with kid fault-secp256k1, fault-ed25519 and
//     fault-unparseable.
//
// Several faults may be armed at once. Arming a name already armed is the
// same one fault, made sticky if either arming asked for sticky (to make
// a sticky fault one-shot, disarm it first). Faults apply in the order
// they were armed: claim faults all apply to one ID token (a later one
// wins on the same claim, e.g. missing-aud armed after wrong-aud leaves
// no aud); of the signature faults only the first armed signs a given
// token, and the others stay armed for the next tokens; the JWKS shows
// every armed or lingering JWKS change at once (kid-absent-single-jwks's
// filter first, then the extra keys). Faults never touch access tokens.
//
// The values used: wrong-iss keeps the issuer's scheme and path on host
// issuer-mismatch.invalid; another client's id is 0oaOther followed by 12
// random characters, another user's sub 00uOther and 12 more;
// wrong-nonce's nonce and wrong-at-hash's at_hash are random; iat-future
// sets iat to now+1h and exp to now+2h; iat-skew-small adds 30 seconds
// to iat, auth_time and exp; expired sets iat to now-2h and exp to now-1h;
// hs256-client-secret's key is the client secret, or
// "mockokta-hs256-public-client-secret" for a public client.
// invalid-signature signs as the client's SigningAlg says (RS256 or
// ES256) before altering the signature; the kid-* faults and
// key-rotation-op-sign-key sign with RS256 keys whatever the client's
// SigningAlg. Key generation (key-rotation-op-sign-key when armed, and
// for each later token while sticky; kid-unpublished once per provider)
// takes a moment; a failure is returned by ArmFault, or logged and the
// token signed normally.
func (p *Provider) ArmFault(name string, sticky bool) error {
	def := lookupFault(name)
	if def == nil {
		names := make([]string, len(faultDefs))
		for i, d := range faultDefs {
			names[i] = d.info.Name
		}
		return fmt.Errorf("%w %q (known faults: %s)", ErrUnknownFault, name, strings.Join(names, ", "))
	}
	if def.kind == kindQueued {
		return p.armQueued(def, sticky)
	}
	fs := p.faultState()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.dropLingering()
	if a := fs.find(name); a != nil {
		a.sticky = a.sticky || sticky
		return nil
	}
	if name == faultKeyRotation {
		k, err := newFaultKey()
		if err != nil {
			return fmt.Errorf("op: arm fault %s: %w", name, err)
		}
		fs.rotKeys, fs.rotFresh = []*faultKey{k}, true
	}
	fs.armed = append(fs.armed, &armedFault{def: def, sticky: sticky})
	p.log.Info("op: fault armed", "fault", name, "sticky", sticky)
	return nil
}

// armQueued arms a fault that is an entry of the error queue.
func (p *Provider) armQueued(def *faultDef, sticky bool) error {
	fs := p.faultState()
	fs.queueMu.Lock()
	defer fs.queueMu.Unlock()
	fs.mu.Lock()
	fs.dropLingering()
	a := fs.find(def.info.Name)
	fs.mu.Unlock()
	if a != nil && (a.sticky || !sticky) {
		return nil
	}
	q := def.queued
	q.Sticky = sticky
	if err := p.QueueError(q); err != nil {
		return fmt.Errorf("op: arm fault %s: %w", def.info.Name, err)
	}
	if a != nil { // one-shot made sticky: the sticky entry replaces the other
		p.dropQueued(def.queued)
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if a := fs.find(def.info.Name); a != nil {
		a.sticky = a.sticky || sticky
		return nil
	}
	fs.armed = append(fs.armed, &armedFault{def: def, sticky: sticky})
	p.log.Info("op: fault armed", "fault", def.info.Name, "sticky", sticky)
	return nil
}

// sameQueued reports whether a queued entry is q, a fault's entry.
func sameQueued(e, q QueuedError) bool {
	return e.Endpoint == q.Endpoint && e.AuthServer == q.AuthServer && e.Status == q.Status && e.Error == q.Error &&
		e.Description == q.Description && e.Body == q.Body && len(e.Header) == 0 && e.Delay == q.Delay && e.Sticky == q.Sticky
}

// queuedPending reports whether the error queue still holds q. It reads
// the queue of controls.go directly.
func (p *Provider) queuedPending(q QueuedError) bool {
	p.ctl.mu.Lock()
	defer p.ctl.mu.Unlock()
	for _, e := range p.ctl.errors {
		if sameQueued(e, q) {
			return true
		}
	}
	return false
}

// dropQueued removes the entries equal to q from the error queue, leaving
// errors queued by other means alone.
func (p *Provider) dropQueued(q QueuedError) {
	p.ctl.mu.Lock()
	defer p.ctl.mu.Unlock()
	kept := p.ctl.errors[:0]
	for _, e := range p.ctl.errors {
		if !sameQueued(e, q) {
			kept = append(kept, e)
		}
	}
	clear(p.ctl.errors[len(kept):])
	p.ctl.errors = kept
}

// settleQueued drops the one-shot queued faults whose entry the error
// queue has used up.
func (p *Provider) settleQueued() {
	fs := p.faultState()
	fs.mu.Lock()
	var oneShot []*armedFault
	for _, a := range fs.armed {
		if a.def.kind == kindQueued && !a.sticky {
			oneShot = append(oneShot, a)
		}
	}
	fs.mu.Unlock()
	var used []*armedFault
	for _, a := range oneShot {
		if !p.queuedPending(a.def.queued) {
			used = append(used, a)
		}
	}
	if len(used) == 0 {
		return
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, a := range used {
		fs.use(p, a)
	}
}

// DisarmFaults disarms every fault and undoes what armed faults changed:
// the JWKS is the provider's own again (keys published for
// key-rotation-op-sign-key and the jwks-* faults removed), and the error
// queue loses the entries of token-server-error, token-invalid-grant,
// slow-token and slow-keys (errors queued with QueueError stay).
func (p *Provider) DisarmFaults() {
	fs := p.faultState()
	fs.queueMu.Lock()
	defer fs.queueMu.Unlock()
	fs.mu.Lock()
	var queued []QueuedError
	for _, a := range fs.armed {
		if a.def.kind == kindQueued {
			q := a.def.queued
			q.Sticky = a.sticky
			queued = append(queued, q)
		}
	}
	n := len(fs.armed)
	fs.armed, fs.lingering = nil, nil
	fs.rotKeys, fs.rotFresh = nil, false
	fs.mu.Unlock()
	for _, q := range queued {
		p.dropQueued(q)
	}
	if n > 0 {
		p.log.Info("op: faults disarmed", "count", n)
	}
}

// ArmedFaults returns the armed faults, in arming order.
func (p *Provider) ArmedFaults() []Fault {
	p.settleQueued()
	fs := p.faultState()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := []Fault{}
	for _, a := range fs.armed {
		out = append(out, Fault{Name: a.def.info.Name, Sticky: a.sticky})
	}
	return out
}

// find returns the armed fault of that name; fs.mu is held.
func (fs *faultSet) find(name string) *armedFault {
	for _, a := range fs.armed {
		if a.def.info.Name == name {
			return a
		}
	}
	return nil
}

// dropLingering ends the JWKS changes of used-up faults; fs.mu is held.
func (fs *faultSet) dropLingering() {
	fs.lingering = nil
	if fs.find(faultKeyRotation) == nil {
		fs.rotKeys, fs.rotFresh = nil, false
	}
}

// use removes a used one-shot fault from the armed list (keeping its JWKS
// change as lingering); fs.mu is held.
func (fs *faultSet) use(p *Provider, a *armedFault) {
	if a.sticky {
		return
	}
	for i, b := range fs.armed {
		if b == a {
			fs.armed = append(fs.armed[:i:i], fs.armed[i+1:]...)
			break
		}
	}
	if a.def.jwks {
		fs.lingering = append(fs.lingering, a.def)
	}
	p.log.Info("op: fault used", "fault", a.def.info.Name)
}

// idTokenFault is called by mint with the ID token's claims before
// signing. It may change claims, and may return a signer that replaces the
// normal one (alg none, HS256, bad signature, no kid, unknown kid). A nil
// signer means "sign normally".
func (p *Provider) idTokenFault(client Client, claims map[string]any) (sign func(map[string]any) (string, error)) {
	fs := p.faultState()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var used []*armedFault
	for _, a := range fs.armed {
		switch a.def.kind {
		case kindClaims:
			a.def.claims(p, claims)
		case kindSigner:
			if sign != nil {
				continue // one signer per token; this one waits
			}
			s, err := a.def.signer(p, fs, client)
			if err != nil {
				p.log.Error("op: fault not applied", "fault", a.def.info.Name, "err", err)
				continue
			}
			sign = s
		case kindJWKS:
		default:
			continue
		}
		used = append(used, a)
	}
	for _, a := range used {
		fs.use(p, a)
	}
	return sign
}

// jwksFault is called by the keys endpoint with the JWKS's keys, each one
// JSON object, and returns the keys to publish.
func (p *Provider) jwksFault(keys []json.RawMessage) []json.RawMessage {
	fs := p.faultState()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	active := map[string]bool{}
	for _, a := range fs.armed {
		if a.def.jwks {
			active[a.def.info.Name] = true
		}
	}
	for _, d := range fs.lingering {
		active[d.info.Name] = true
	}
	if len(active) == 0 {
		return keys
	}
	out := keys
	if active[faultKidAbsentSingle] {
		signing := p.keys.current().kid
		out = nil
		for _, k := range keys {
			var meta struct {
				Kid string `json:"kid"`
			}
			if json.Unmarshal(k, &meta) == nil && meta.Kid == signing {
				out = append(out, k)
			}
		}
	} else {
		out = append([]json.RawMessage(nil), keys...)
	}
	if active[faultKeyRotation] {
		for _, k := range fs.rotKeys {
			out = append(out, k.jwk)
		}
	}
	for _, d := range faultDefs {
		if d.kind == kindJWKS && active[d.info.Name] {
			out = append(out, d.extraKey())
		}
	}
	return out
}

// userinfoFault is called by the UserInfo endpoint with its body before it
// is written.
func (p *Provider) userinfoFault(body map[string]any) {
	fs := p.faultState()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if a := fs.find(faultUserinfoSub); a != nil {
		body["sub"] = otherID(otherUserPrefix)
		fs.use(p, a)
	}
}

// noKidSigner signs with the provider's RSA signing key, without a kid
// header.
func noKidSigner(p *Provider, _ *faultSet, _ Client) (func(map[string]any) (string, error), error) {
	k := p.keys.current()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: cryptosigner.Opaque(k.priv)}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("op: signer: %w", err)
	}
	return func(c map[string]any) (string, error) {
		raw, err := jwt.Signed(s).Claims(c).Serialize()
		if err != nil {
			return "", fmt.Errorf("op: sign token: %w", err)
		}
		return raw, nil
	}, nil
}

// rotationSigner signs with the newest key of key-rotation-op-sign-key,
// generating (and publishing) a new one when the newest has signed
// already; fs.mu is held.
func rotationSigner(_ *Provider, fs *faultSet, _ Client) (func(map[string]any) (string, error), error) {
	if !fs.rotFresh || len(fs.rotKeys) == 0 {
		k, err := newFaultKey()
		if err != nil {
			return nil, err
		}
		fs.rotKeys = append(fs.rotKeys, k)
		if len(fs.rotKeys) > 2 {
			fs.rotKeys = append([]*faultKey(nil), fs.rotKeys[len(fs.rotKeys)-2:]...)
		}
	}
	fs.rotFresh = false
	return fs.rotKeys[len(fs.rotKeys)-1].sign, nil
}

// faultKey is an RSA key that only faults sign with.
type faultKey struct {
	kid    string
	public *rsa.PublicKey
	signer jose.Signer
	jwk    json.RawMessage
}

// newFaultKey generates an RSA-2048 key with its RFC 7638 thumbprint as
// kid, in the shape of the provider's own keys.
func newFaultKey() (*faultKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("op: generate key: %w", err)
	}
	tp, err := (&jose.JSONWebKey{Key: &priv.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("op: key thumbprint: %w", err)
	}
	kid := base64.RawURLEncoding.EncodeToString(tp)
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: priv}, opts)
	if err != nil {
		return nil, fmt.Errorf("op: signer: %w", err)
	}
	jwk, err := json.Marshal(jose.JSONWebKey{Key: &priv.PublicKey, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"})
	if err != nil {
		return nil, fmt.Errorf("op: encode key: %w", err)
	}
	return &faultKey{kid: kid, public: &priv.PublicKey, signer: signer, jwk: jwk}, nil
}

func (k *faultKey) sign(c map[string]any) (string, error) {
	raw, err := jwt.Signed(k.signer).Claims(c).Serialize()
	if err != nil {
		return "", fmt.Errorf("op: sign token: %w", err)
	}
	return raw, nil
}

// compactJWT serialises claims as a JWS compact serialisation with header
// {"alg":alg,"typ":"JWT"}, signed by mac (nil: an empty signature).
func compactJWT(alg string, claims map[string]any, mac func(input []byte) []byte) (string, error) {
	header, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
	}{alg, "JWT"})
	if err != nil {
		return "", fmt.Errorf("op: encode token header: %w", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("op: encode token claims: %w", err)
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(payload)
	var sig []byte
	if mac != nil {
		sig = mac([]byte(input))
	}
	return input + "." + enc.EncodeToString(sig), nil
}

// corruptSignature alters bytes in the middle of a compact JWS's
// signature; the result is still base64url of the same length.
func corruptSignature(raw string) (string, error) {
	i := strings.LastIndexByte(raw, '.')
	sig, err := base64.RawURLEncoding.DecodeString(raw[i+1:])
	if i < 0 || err != nil || len(sig) == 0 {
		return "", errors.New("op: fault invalid-signature: token has no signature")
	}
	sig[len(sig)/2] ^= 0x5a
	sig[len(sig)/2+1] ^= 0xa5
	return raw[:i+1] + base64.RawURLEncoding.EncodeToString(sig), nil
}

// otherIssuer is iss on another host.
func otherIssuer(iss string) string {
	u, err := url.Parse(iss)
	if err != nil || u.Host == "" {
		return "https://" + otherIssuerHost
	}
	u.Host = otherIssuerHost
	return u.String()
}

// otherID is prefix and 12 random letters and digits.
func otherID(prefix string) string { return prefix + rand.Text()[:12] }

// secp256k1JWK is a public key on secp256k1 (SEC 2 §2.4.1): a valid point,
// whose private scalar is the SHA-256 of a fixed string.
func secp256k1JWK() json.RawMessage {
	return json.RawMessage(`{"kty":"EC","crv":"secp256k1","kid":"` + kidSecp256k1 + `","use":"sig","alg":"ES256K",` +
		`"x":"Dlkzz1n4zeH2cUBGpcPjdicKN0UwGuqI2CTV4Puj0P4","y":"qqwrRS5Fwy_faU0hZA1IDhCMiCVC4VByQM57-1Hh6jA"}`)
}

// okpJWK is an Ed25519 public key (RFC 8037 §2) derived from a fixed seed.
func okpJWK() json.RawMessage {
	seed := sha256.Sum256([]byte("idpkit mock ed25519 fault key"))
	pub := ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey)
	return json.RawMessage(`{"kty":"OKP","crv":"Ed25519","kid":"` + kidOKP + `","use":"sig","alg":"EdDSA","x":"` +
		base64.RawURLEncoding.EncodeToString(pub) + `"}`)
}

// unparseableJWK is an RSA key whose modulus is not base64url.
func unparseableJWK() json.RawMessage {
	return json.RawMessage(`{"kty":"RSA","kid":"` + kidUnparseable + `","use":"sig","alg":"RS256","n":"!!!","e":"AQAB"}`)
}
