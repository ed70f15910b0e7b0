package op

import (
	"encoding/json"
	"errors"
)

// This file holds the provider's faults: deliberate misbehaviour, armed
// one-shot or sticky, for testing relying parties. STUB: the owner of this
// file replaces the bodies.

// ErrUnknownFault is returned by ArmFault for a name FaultNames does not list.
var ErrUnknownFault = errors.New("op: unknown fault")

// FaultInfo describes one fault.
type FaultInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Module is the OpenID Foundation RP conformance test module the fault
	// reproduces, when there is one (e.g. "rp-id_token-bad-sig-rs256").
	Module string `json:"module,omitempty"`
	// Expect is what a correct relying party does: "refuse", "accept" or
	// "either" (refuse or accept, but never a server error).
	Expect string `json:"expect"`
}

// Fault is an armed fault.
type Fault struct {
	Name   string `json:"name"`
	Sticky bool   `json:"sticky"`
}

// FaultNames lists every fault the provider knows.
func FaultNames() []FaultInfo { return nil }

// ArmFault arms a fault: one-shot (used up by the first response it
// changes) unless sticky.
func (p *Provider) ArmFault(name string, sticky bool) error { return nil }

// DisarmFaults disarms every fault and undoes what armed faults changed
// (keys published only for a fault, and the like).
func (p *Provider) DisarmFaults() {}

// ArmedFaults returns the armed faults.
func (p *Provider) ArmedFaults() []Fault { return nil }

// idTokenFault is called by mint with the ID token's claims before
// signing. It may change claims, and may return a signer that replaces the
// normal one (alg none, HS256, bad signature, no kid, unknown kid). A nil
// signer means "sign normally".
func (p *Provider) idTokenFault(client Client, claims map[string]any) (sign func(map[string]any) (string, error)) {
	return nil
}

// jwksFault is called by the keys endpoint with the JWKS's keys, each one
// JSON object, and returns the keys to publish.
func (p *Provider) jwksFault(keys []json.RawMessage) []json.RawMessage { return keys }

// userinfoFault is called by the UserInfo endpoint with its body before it
// is written.
func (p *Provider) userinfoFault(body map[string]any) {}
