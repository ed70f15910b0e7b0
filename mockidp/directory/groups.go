package directory

import (
	"slices"
	"strings"
	"time"
)

// Group types, as Okta's group objects name them.
const (
	GroupTypeOkta    = "OKTA_GROUP" // a group an admin made
	GroupTypeBuiltIn = "BUILT_IN"   // the Everyone group
)

// The built-in Everyone group, as Okta names and describes it.
const (
	EveryoneName        = "Everyone"
	EveryoneDescription = "All users in your organization"
)

// Group is an Okta group. Members holds user ids in the order they were
// added. Every org has one BUILT_IN group, Everyone (Directory.Everyone):
// every user is a member from creation to deletion, and it cannot be
// renamed, deleted or have members removed.
type Group struct {
	ID                    string
	Type                  string // GroupTypeOkta or GroupTypeBuiltIn
	Name                  string
	Description           string
	Created               time.Time
	LastUpdated           time.Time
	LastMembershipUpdated time.Time
	Members               []string
}

type groupRecord struct{ Group }

func (r *groupRecord) snapshot() Group {
	g := r.Group
	g.Members = cloneStrings(g.Members)
	return g
}

func (d *Directory) findGroupLocked(idOrName string) *groupRecord {
	if r, ok := d.groups[idOrName]; ok {
		return r
	}
	return nil
}

func (d *Directory) groupNameTakenLocked(name, except string) bool {
	for _, r := range d.groups {
		if r.ID != except && strings.EqualFold(r.Name, name) {
			return true
		}
	}
	return false
}

// CreateGroup adds a group. ErrInvalid without a name, ErrExists when
// another group has that name (case-insensitively).
func (d *Directory) CreateGroup(name, description string) (Group, error) {
	if strings.TrimSpace(name) == "" {
		return Group{}, invalid("name", "The field cannot be left blank")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.groupNameTakenLocked(name, "") {
		return Group{}, &FieldError{Field: "name", Message: "An object with this field already exists in the current organization", Kind: ErrExists}
	}
	now := d.Now()
	r := &groupRecord{Group{ID: NewID("00g"), Type: GroupTypeOkta, Name: name, Description: description, Created: now, LastUpdated: now, LastMembershipUpdated: now}}
	d.groups[r.ID] = r
	d.groupOrd = append(d.groupOrd, r.ID)
	return r.snapshot(), nil
}

// UpdateGroup replaces a group's name and description, returning the group
// before and after.
func (d *Directory) UpdateGroup(id, name, description string) (before, after Group, err error) {
	if strings.TrimSpace(name) == "" {
		return Group{}, Group{}, invalid("name", "The field cannot be left blank")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.findGroupLocked(id)
	if r == nil {
		return Group{}, Group{}, notFound("UserGroup", id)
	}
	if r.Type == GroupTypeBuiltIn {
		return Group{}, Group{}, errBuiltIn("renamed")
	}
	if d.groupNameTakenLocked(name, r.ID) {
		return Group{}, Group{}, &FieldError{Field: "name", Message: "An object with this field already exists in the current organization", Kind: ErrExists}
	}
	before = r.snapshot()
	r.Name, r.Description, r.LastUpdated = name, description, d.Now()
	return before, r.snapshot(), nil
}

// Group returns one group; ErrNotFound when absent.
func (d *Directory) Group(id string) (Group, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	r := d.findGroupLocked(id)
	if r == nil {
		return Group{}, notFound("UserGroup", id)
	}
	return r.snapshot(), nil
}

// GroupByName returns the group with that name (case-insensitive).
func (d *Directory) GroupByName(name string) (Group, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	for _, id := range d.groupOrd {
		if r := d.groups[id]; strings.EqualFold(r.Name, name) {
			return r.snapshot(), nil
		}
	}
	return Group{}, notFound("UserGroup", name)
}

// Groups returns every group in creation order.
func (d *Directory) Groups() []Group {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]Group, 0, len(d.groupOrd))
	for _, id := range d.groupOrd {
		out = append(out, d.groups[id].snapshot())
	}
	return out
}

// DeleteGroup removes a group and its app assignments.
func (d *Directory) DeleteGroup(id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.findGroupLocked(id)
	if r == nil {
		return notFound("UserGroup", id)
	}
	if r.Type == GroupTypeBuiltIn {
		return errBuiltIn("deleted")
	}
	delete(d.groups, r.ID)
	d.groupOrd = remove(d.groupOrd, r.ID)
	for k := range d.appGroups {
		if k.member == r.ID {
			delete(d.appGroups, k)
		}
	}
	return nil
}

// AddMember adds a user to a group; added is false when it was a member
// already. ErrNotFound for an unknown group or user.
func (d *Directory) AddMember(groupID, userID string) (added bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	g := d.findGroupLocked(groupID)
	if g == nil {
		return false, notFound("UserGroup", groupID)
	}
	u := d.findUserLocked(userID)
	if u == nil {
		return false, notFound("User", userID)
	}
	if slices.Contains(g.Members, u.ID) {
		return false, nil
	}
	g.Members = append(g.Members, u.ID)
	g.LastMembershipUpdated = d.Now()
	return true, nil
}

// RemoveMember removes a user from a group; removed is false when it was
// not a member. ErrNotFound for an unknown group or user.
func (d *Directory) RemoveMember(groupID, userID string) (removed bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	g := d.findGroupLocked(groupID)
	if g == nil {
		return false, notFound("UserGroup", groupID)
	}
	u := d.findUserLocked(userID)
	if u == nil {
		return false, notFound("User", userID)
	}
	if g.Type == GroupTypeBuiltIn {
		return false, errBuiltIn("left by a user (every user is a member)")
	}
	if !slices.Contains(g.Members, u.ID) {
		return false, nil
	}
	g.Members = remove(g.Members, u.ID)
	g.LastMembershipUpdated = d.Now()
	return true, nil
}

// UserGroups returns the groups a user belongs to, in creation order.
func (d *Directory) UserGroups(userID string) ([]Group, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	u := d.findUserLocked(userID)
	if u == nil {
		return nil, notFound("User", userID)
	}
	var out []Group
	for _, id := range d.groupOrd {
		if g := d.groups[id]; slices.Contains(g.Members, u.ID) {
			out = append(out, g.snapshot())
		}
	}
	return out, nil
}

// errBuiltIn is the error for changing the Everyone group.
func errBuiltIn(what string) error {
	return invalid("type", "the "+EveryoneName+" group is built in and cannot be "+what)
}

// IsBuiltIn reports whether a group is the built-in Everyone group.
func (g Group) IsBuiltIn() bool { return g.Type == GroupTypeBuiltIn }

// Everyone returns the org's built-in Everyone group, whose members are
// every user. Assigning it to an OIDC app is the App Integration Wizard's
// "Allow everyone in your organization to access".
func (d *Directory) Everyone() Group {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.groups[d.everyone].snapshot()
}
