package store_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/clients"
	"github.com/gatehouse-id/gatehouse/store"
	"github.com/gatehouse-id/gatehouse/store/storetest"
)

var _ clients.Store = (*store.Store)(nil)

func webClient() clients.Client {
	_, hash := clients.NewSecret()
	return clients.Client{
		ID:         "web-app",
		Name:       "Web app",
		Type:       clients.Web,
		SecretHash: hash,
		Callbacks:  []string{"https://app.example.com/callback", "http://localhost:3000/callback"},
		LogoutURLs: []string{"https://app.example.com/"},
		WebOrigins: []string{"https://app.example.com", "http://localhost:3000"},
		CreatedAt:  t0,
		UpdatedAt:  t0,
	}
}

func TestClientRoundTrip(t *testing.T) {
	st := storetest.NewStore(t)
	want := webClient()
	if err := st.CreateClient(ctxB, want); err != nil {
		t.Fatal(err)
	}
	got, err := st.ClientByID(ctxB, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertClient(t, got, want)
}

func TestPublicClientRoundTripsWithoutSecretOrLists(t *testing.T) {
	st := storetest.NewStore(t)
	want := clients.Client{ID: "spa", Name: "SPA", Type: clients.SPA, Callbacks: []string{"http://localhost:3000"}, CreatedAt: t0, UpdatedAt: t0}
	if err := st.CreateClient(ctxB, want); err != nil {
		t.Fatal(err)
	}
	got, err := st.ClientByID(ctxB, "spa")
	if err != nil {
		t.Fatal(err)
	}
	if got.SecretHash != nil || got.LogoutURLs != nil || got.WebOrigins != nil {
		t.Fatalf("secret %x logout %#v origins %#v; want nil, nil, nil", got.SecretHash, got.LogoutURLs, got.WebOrigins)
	}
	assertClient(t, got, want)
}

func TestCreateClientStampsMissingTimes(t *testing.T) {
	st := storetest.NewStore(t)
	c := webClient()
	c.CreatedAt, c.UpdatedAt = time.Time{}, time.Time{}
	if err := st.CreateClient(ctxB, c); err != nil {
		t.Fatal(err)
	}
	got, err := st.ClientByID(ctxB, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(got.CreatedAt); d < -time.Minute || d > time.Minute || !got.UpdatedAt.Equal(got.CreatedAt) {
		t.Fatalf("created %v updated %v; want now and equal", got.CreatedAt, got.UpdatedAt)
	}
}

func TestClientIDIsUnique(t *testing.T) {
	st := storetest.NewStore(t)
	if err := st.CreateClient(ctxB, webClient()); err != nil {
		t.Fatal(err)
	}
	again := webClient()
	again.Name = "Another"
	if err := st.CreateClient(ctxB, again); !errors.Is(err, clients.ErrDuplicate) {
		t.Fatalf("second client with the same id: err = %v, want ErrDuplicate", err)
	}
}

func TestUpdateClientReplacesFieldsAndKeepsCreatedAt(t *testing.T) {
	st := storetest.NewStore(t)
	c := webClient()
	if err := st.CreateClient(ctxB, c); err != nil {
		t.Fatal(err)
	}
	c.Name = "Renamed"
	c.Callbacks = []string{"https://new.example.com/cb"}
	c.LogoutURLs = nil
	_, c.SecretHash = clients.NewSecret()
	c.CreatedAt = t0.Add(time.Hour) // ignored
	if err := st.UpdateClient(ctxB, c); err != nil {
		t.Fatal(err)
	}
	got, err := st.ClientByID(ctxB, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	c.CreatedAt = t0
	c.UpdatedAt = got.UpdatedAt
	assertClient(t, got, c)
	if d := time.Since(got.UpdatedAt); d < -time.Minute || d > time.Minute {
		t.Fatalf("updated at %v, want the time of the update", got.UpdatedAt)
	}
}

func TestListClientsByName(t *testing.T) {
	st := storetest.NewStore(t)
	if list, err := st.ListClients(ctxB); err != nil || len(list) != 0 {
		t.Fatalf("empty list = %v, %v", list, err)
	}
	for _, name := range []string{"Zed", "Alpha", "Mid"} {
		c := webClient()
		c.ID, c.Name = "id-"+name, name
		if err := st.CreateClient(ctxB, c); err != nil {
			t.Fatal(err)
		}
	}
	list, err := st.ListClients(ctxB)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range list {
		names = append(names, c.Name)
	}
	if !reflect.DeepEqual(names, []string{"Alpha", "Mid", "Zed"}) || len(list[0].Callbacks) != 2 {
		t.Fatalf("listed %v (first has callbacks %v), want Alpha, Mid, Zed with their callbacks", names, list[0].Callbacks)
	}
}

func TestDeleteClient(t *testing.T) {
	st := storetest.NewStore(t)
	c := webClient()
	if err := st.CreateClient(ctxB, c); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteClient(ctxB, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ClientByID(ctxB, c.ID); !errors.Is(err, clients.ErrNotFound) {
		t.Fatalf("after delete: err = %v, want ErrNotFound", err)
	}
}

func TestClientAndAPILookupsAnswerNotFound(t *testing.T) {
	st := storetest.NewStore(t)
	for name, op := range map[string]func() error{
		"client by unknown id":       func() error { _, err := st.ClientByID(ctxB, "nope"); return err },
		"client by id with NUL":      func() error { _, err := st.ClientByID(ctxB, "a\x00b"); return err },
		"client by invalid UTF-8 id": func() error { _, err := st.ClientByID(ctxB, "\xff"); return err },
		"update unknown client":      func() error { return st.UpdateClient(ctxB, webClient()) },
		"delete unknown client":      func() error { return st.DeleteClient(ctxB, "nope") },
		"api by unknown identifier":  func() error { _, err := st.APIByIdentifier(ctxB, "https://nope"); return err },
		"api by identifier with NUL": func() error { _, err := st.APIByIdentifier(ctxB, "x\x00"); return err },
		"delete unknown api":         func() error { return st.DeleteAPI(ctxB, "https://nope") },
	} {
		t.Run(name, func(t *testing.T) {
			if err := op(); !errors.Is(err, clients.ErrNotFound) {
				t.Fatalf("err = %v, want ErrNotFound", err)
			}
		})
	}
}

func TestAPIRoundTripListAndDelete(t *testing.T) {
	st := storetest.NewStore(t)
	created, err := st.CreateAPI(ctxB, clients.API{Identifier: "https://orders.example.com", Name: "Orders", TokenLifetime: 2 * time.Hour, CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	if len(created.ID) != 36 || !created.CreatedAt.Equal(t0) {
		t.Fatalf("created %+v, want a uuid and the given time", created)
	}
	if _, err := st.CreateAPI(ctxB, clients.API{Identifier: "billing", Name: "Billing", TokenLifetime: time.Minute}); err != nil {
		t.Fatal(err)
	}
	got, err := st.APIByIdentifier(ctxB, "https://orders.example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(normalizeAPI(got), normalizeAPI(created)) || got.TokenLifetime != 2*time.Hour || got.Name != "Orders" {
		t.Fatalf("got %+v, want %+v", got, created)
	}
	list, err := st.ListAPIs(ctxB)
	if err != nil || len(list) != 2 || list[0].Identifier != "billing" || list[1].Identifier != "https://orders.example.com" {
		t.Fatalf("list = %+v, %v; want billing then orders", list, err)
	}
	if err := st.DeleteAPI(ctxB, "billing"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.APIByIdentifier(ctxB, "billing"); !errors.Is(err, clients.ErrNotFound) {
		t.Fatalf("after delete: err = %v, want ErrNotFound", err)
	}
}

func TestAPIIdentifierIsUnique(t *testing.T) {
	st := storetest.NewStore(t)
	a := clients.API{Identifier: "https://orders.example.com", Name: "Orders", TokenLifetime: time.Hour}
	if _, err := st.CreateAPI(ctxB, a); err != nil {
		t.Fatal(err)
	}
	a.Name = "Orders again"
	if _, err := st.CreateAPI(ctxB, a); !errors.Is(err, clients.ErrDuplicate) {
		t.Fatalf("second API with the same identifier: err = %v, want ErrDuplicate", err)
	}
}

func assertClient(t *testing.T, got, want clients.Client) {
	t.Helper()
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Fatalf("times: created %v updated %v, want %v %v", got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
	got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stored client reads back as\n%+v\nwant\n%+v", got, want)
	}
}

func normalizeAPI(a clients.API) clients.API {
	a.CreatedAt = a.CreatedAt.UTC()
	return a
}

func TestClientLifetimesRoundTripAndUnsetMeansNull(t *testing.T) {
	st := storetest.NewStore(t)
	c := webClient()
	c.Lifetimes = clients.Lifetimes{IDToken: 10 * time.Minute, RefreshAbsolute: 7 * 24 * time.Hour}
	if err := st.CreateClient(ctxB, c); err != nil {
		t.Fatal(err)
	}
	got, err := st.ClientByID(ctxB, c.ID)
	if err != nil || got.Lifetimes != c.Lifetimes {
		t.Fatalf("lifetimes read back as %+v (%v), want %+v", got.Lifetimes, err, c.Lifetimes)
	}
	got.Lifetimes = clients.Lifetimes{RefreshIdle: time.Hour}
	if err := st.UpdateClient(ctxB, got); err != nil {
		t.Fatal(err)
	}
	if again, err := st.ClientByID(ctxB, c.ID); err != nil || again.Lifetimes != got.Lifetimes {
		t.Fatalf("after update %+v, want %+v", again.Lifetimes, got.Lifetimes)
	}
}

func TestUpdateAPIChangesNameAndLifetimeButNotTheIdentifier(t *testing.T) {
	st := storetest.NewStore(t)
	a, err := st.CreateAPI(ctxB, clients.API{Identifier: "https://orders.example.com", Name: "Orders", TokenLifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	a.Name, a.TokenLifetime, a.Identifier = "Orders v2", 2*time.Hour, "https://other.example.com"
	if err := st.UpdateAPI(ctxB, a); err != nil {
		t.Fatal(err)
	}
	got, err := st.APIByID(ctxB, a.ID)
	if err != nil || got.Name != "Orders v2" || got.TokenLifetime != 2*time.Hour || got.Identifier != "https://orders.example.com" {
		t.Fatalf("got %+v (%v)", got, err)
	}
	for _, id := range []string{"not-a-uuid", "00000000-0000-0000-0000-000000000000"} {
		if _, err := st.APIByID(ctxB, id); !errors.Is(err, clients.ErrNotFound) {
			t.Errorf("APIByID(%q) = %v, want ErrNotFound", id, err)
		}
		if err := st.UpdateAPI(ctxB, clients.API{ID: id, Name: "X", TokenLifetime: time.Hour}); !errors.Is(err, clients.ErrNotFound) {
			t.Errorf("UpdateAPI(%q) = %v, want ErrNotFound", id, err)
		}
	}
}
