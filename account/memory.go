package account

import (
	"context"
	"slices"
	"sync"
)

// NewMemoryStore returns a [Store] that keeps its links in memory, for tests
// and for servers that run on one machine and may forget who is who when
// they restart. Its transactions run one at a time, under one lock: a
// [WithNewUser] callback that is slow holds up every Resolve.
func NewMemoryStore() Store {
	return &memoryStore{
		openIDs:  make(map[OpenID]string),
		unionIDs: make(map[string]string),
		phones:   make(map[string]string),
		users:    make(map[string]*memUser),
	}
}

type memoryStore struct {
	mu       sync.Mutex
	openIDs  map[OpenID]string // -> user id
	unionIDs map[string]string // -> user id
	phones   map[string]string // -> user id
	users    map[string]*memUser
}

// memUser is the reverse index of one user's links.
type memUser struct {
	phone    string
	openIDs  map[string]string // app id -> openid
	unionIDs map[string]bool
}

func (s *memoryStore) Update(ctx context.Context, fn func(context.Context, Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := &memTx{s: s}
	if err := fn(ctx, tx); err != nil {
		for i := len(tx.undo) - 1; i >= 0; i-- {
			tx.undo[i]()
		}
		return err
	}
	return nil
}

// memTx is a transaction of a memoryStore: it writes in place and keeps an
// undo log for a rollback.
type memTx struct {
	s    *memoryStore
	undo []func()
}

func lookup(m map[string]string, k string) (string, error) {
	if u, ok := m[k]; ok {
		return u, nil
	}
	return "", ErrNotFound
}

func (t *memTx) UserByOpenID(_ context.Context, appID, openID string) (string, error) {
	if u, ok := t.s.openIDs[OpenID{appID, openID}]; ok {
		return u, nil
	}
	return "", ErrNotFound
}

func (t *memTx) UserByUnionID(_ context.Context, unionID string) (string, error) {
	return lookup(t.s.unionIDs, unionID)
}

func (t *memTx) UserByPhone(_ context.Context, phone string) (string, error) {
	return lookup(t.s.phones, phone)
}

func (t *memTx) Links(_ context.Context, userID string) (*Links, error) {
	l := &Links{}
	u := t.s.users[userID]
	if u == nil {
		return l, nil
	}
	l.Phone = u.phone
	for app, o := range u.openIDs {
		l.OpenIDs = append(l.OpenIDs, OpenID{app, o})
	}
	slices.SortFunc(l.OpenIDs, func(a, b OpenID) int {
		if a.AppID < b.AppID {
			return -1
		}
		if a.AppID > b.AppID {
			return 1
		}
		return 0
	})
	for un := range u.unionIDs {
		l.UnionIDs = append(l.UnionIDs, un)
	}
	slices.Sort(l.UnionIDs)
	return l, nil
}

// user returns the reverse index of userID, making it (undoably) when absent.
func (t *memTx) user(userID string) *memUser {
	u := t.s.users[userID]
	if u == nil {
		u = &memUser{openIDs: make(map[string]string), unionIDs: make(map[string]bool)}
		t.s.users[userID] = u
		t.undo = append(t.undo, func() { delete(t.s.users, userID) })
	}
	return u
}

// dropIfEmpty forgets a user without links.
func (t *memTx) dropIfEmpty(userID string) {
	u := t.s.users[userID]
	if u != nil && u.phone == "" && len(u.openIDs) == 0 && len(u.unionIDs) == 0 {
		delete(t.s.users, userID)
		t.undo = append(t.undo, func() { t.s.users[userID] = u })
	}
}

func (t *memTx) BindOpenID(_ context.Context, userID, appID, openID string) error {
	k := OpenID{appID, openID}
	if _, ok := t.s.openIDs[k]; ok {
		return ErrTaken
	}
	if u := t.s.users[userID]; u != nil && u.openIDs[appID] != "" {
		return ErrTaken
	}
	u := t.user(userID)
	t.s.openIDs[k] = userID
	u.openIDs[appID] = openID
	t.undo = append(t.undo, func() { delete(t.s.openIDs, k); delete(u.openIDs, appID) })
	return nil
}

func (t *memTx) BindUnionID(_ context.Context, userID, unionID string) error {
	if _, ok := t.s.unionIDs[unionID]; ok {
		return ErrTaken
	}
	u := t.user(userID)
	t.s.unionIDs[unionID] = userID
	u.unionIDs[unionID] = true
	t.undo = append(t.undo, func() { delete(t.s.unionIDs, unionID); delete(u.unionIDs, unionID) })
	return nil
}

func (t *memTx) BindPhone(_ context.Context, userID, phone string) error {
	if _, ok := t.s.phones[phone]; ok {
		return ErrTaken
	}
	if u := t.s.users[userID]; u != nil && u.phone != "" {
		return ErrTaken
	}
	u := t.user(userID)
	t.s.phones[phone] = userID
	u.phone = phone
	t.undo = append(t.undo, func() { delete(t.s.phones, phone); u.phone = "" })
	return nil
}

func (t *memTx) UnbindOpenID(_ context.Context, userID, appID, openID string) error {
	k := OpenID{appID, openID}
	if u, ok := t.s.openIDs[k]; !ok || u != userID {
		return nil
	}
	u := t.s.users[userID]
	delete(t.s.openIDs, k)
	delete(u.openIDs, appID)
	t.undo = append(t.undo, func() { t.s.openIDs[k] = userID; u.openIDs[appID] = openID })
	t.dropIfEmpty(userID)
	return nil
}

func (t *memTx) UnbindUnionID(_ context.Context, userID, unionID string) error {
	if u, ok := t.s.unionIDs[unionID]; !ok || u != userID {
		return nil
	}
	u := t.s.users[userID]
	delete(t.s.unionIDs, unionID)
	delete(u.unionIDs, unionID)
	t.undo = append(t.undo, func() { t.s.unionIDs[unionID] = userID; u.unionIDs[unionID] = true })
	t.dropIfEmpty(userID)
	return nil
}

func (t *memTx) UnbindPhone(_ context.Context, userID, phone string) error {
	if u, ok := t.s.phones[phone]; !ok || u != userID {
		return nil
	}
	u := t.s.users[userID]
	delete(t.s.phones, phone)
	u.phone = ""
	t.undo = append(t.undo, func() { t.s.phones[phone] = userID; u.phone = phone })
	t.dropIfEmpty(userID)
	return nil
}

func (t *memTx) DeleteUser(ctx context.Context, userID string) error {
	u := t.s.users[userID]
	if u == nil {
		return nil
	}
	if u.phone != "" {
		_ = t.UnbindPhone(ctx, userID, u.phone)
	}
	for app, o := range u.openIDs {
		_ = t.UnbindOpenID(ctx, userID, app, o)
	}
	for un := range u.unionIDs {
		_ = t.UnbindUnionID(ctx, userID, un)
	}
	return nil
}
