package web

import (
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
)

// TestMemoCodecDecodesLikeGob: a remembered decoding equals gob's own, a caller changing its map
// changes no one else's, and the memory stays bounded.
func TestMemoCodecDecodesLikeGob(t *testing.T) {
	t.Parallel()
	deadline := time.Now().Add(time.Hour).Round(0)
	b, err := scs.GobCodec{}.Encode(deadline, map[string]any{"user_id": int64(7), "lang": "pt-BR"})
	if err != nil {
		t.Fatal(err)
	}
	c := &memoCodec{max: 2}
	for i := range 3 {
		dl, v, err := c.Decode(b)
		if err != nil || !dl.Equal(deadline) || v["user_id"] != int64(7) || v["lang"] != "pt-BR" || len(v) != 2 {
			t.Fatalf("decoding %d: %v %v %v", i, dl, v, err)
		}
		v["lang"] = "en" // scs's Put on this request's copy
		delete(v, "user_id")
	}
	other, _ := scs.GobCodec{}.Encode(deadline, map[string]any{"user_id": int64(8)})
	if _, v, _ := c.Decode(other); v["user_id"] != int64(8) {
		t.Fatalf("another session decoded as %v", v)
	}
	third, _ := scs.GobCodec{}.Encode(deadline, map[string]any{"user_id": int64(9)})
	if _, _, err := c.Decode(third); err != nil || len(c.seen) > c.max {
		t.Fatalf("%d decodings kept, at most %d (%v)", len(c.seen), c.max, err)
	}
	if _, _, err := c.Decode([]byte("not gob")); err == nil {
		t.Fatal("garbage decoded")
	}
	// A session holding a one-time password is decoded but never remembered: the secret leaves
	// memory with the request that showed it.
	secret, _ := scs.GobCodec{}.Encode(deadline, map[string]any{"user_id": int64(10), keySecret: "123\nscope\na@b.test\nsenha"})
	kept := &memoCodec{max: 10}
	if _, v, err := kept.Decode(secret); err != nil || v[keySecret] == nil {
		t.Fatalf("the secret session decoded as %v (%v)", v, err)
	}
	if len(kept.seen) != 0 {
		t.Fatalf("a session with a one-time password was remembered (%d decodings kept)", len(kept.seen))
	}
}
