package store

import (
	"context"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/cabincare/cabincare/syncproto"
)

// Template is a reply template in one language, with placeholders such as
// {{customer}} (see the care service for the list).
type Template struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Language  string    `json:"language"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CreateTemplate stores a new template; an id in use is a conflict.
func (s *Store) CreateTemplate(ctx context.Context, t *Template) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktTemplates)
		if b.Get([]byte(t.ID)) != nil {
			return syncproto.Errorf(syncproto.CodeConflict, "template %s exists already", t.ID)
		}
		return putJSON(b, []byte(t.ID), t)
	})
}

// UpdateTemplate reads, changes and writes one template in one
// transaction.
func (s *Store) UpdateTemplate(ctx context.Context, id string, fn func(*Template) error) (*Template, error) {
	var t Template
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktTemplates)
		ok, err := getJSON(b, []byte(id), &t)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("template", id)
		}
		if err := fn(&t); err != nil {
			return err
		}
		return putJSON(b, []byte(id), &t)
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// Template returns one template.
func (s *Store) Template(ctx context.Context, id string) (*Template, error) {
	var t Template
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		ok, err = getJSON(tx.Bucket(bktTemplates), []byte(id), &t)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("template", id)
	}
	return &t, nil
}

// Templates lists the templates by language, then name.
func (s *Store) Templates(ctx context.Context) ([]Template, error) {
	out := []Template{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktTemplates)
		return b.ForEach(func(k, v []byte) error {
			var t Template
			if _, err := getJSON(b, k, &t); err != nil {
				return err
			}
			out = append(out, t)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Language != out[j].Language {
			return out[i].Language < out[j].Language
		}
		return out[i].Name < out[j].Name || out[i].Name == out[j].Name && out[i].ID < out[j].ID
	})
	return out, err
}

// DeleteTemplate removes a template.
func (s *Store) DeleteTemplate(ctx context.Context, id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktTemplates)
		if b.Get([]byte(id)) == nil {
			return notFound("template", id)
		}
		return b.Delete([]byte(id))
	})
}
