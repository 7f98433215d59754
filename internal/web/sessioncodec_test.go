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
}
