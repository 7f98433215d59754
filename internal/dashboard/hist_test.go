package dashboard

import "testing"

// TestAddPacked reads by_inbox's 10-byte entries (inbox, bucket, conversations, big-endian) into
// each inbox's histogram, and refuses a value that is not whole entries.
func TestAddPacked(t *testing.T) {
	t.Parallel()
	h := &hists{firstReply: map[int32]*histogram{}}
	packed := []byte{
		0, 0, 0, 7, 0, 3, 0, 0, 0, 2, // inbox 7, bucket 3: 2
		0, 0, 0, 7, 1, 143, 0, 1, 0, 0, // inbox 7, bucket 399: 65,536
		0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 5, // inbox 2,147,483,647, bucket 0: 5
	}
	if err := h.addPacked(packed); err != nil {
		t.Fatal(err)
	}
	if err := h.addPacked(packed[:10]); err != nil {
		t.Fatal(err)
	}
	if got := h.firstReply[7]; got == nil || got[3] != 4 || got[399] != 65536 {
		t.Errorf("inbox 7: %v", got)
	}
	if got := h.firstReply[2147483647]; got == nil || got[0] != 5 || len(h.firstReply) != 2 {
		t.Errorf("inboxes %v", h.firstReply)
	}
	for _, n := range []int{9, 11, 29} {
		if err := h.addPacked(packed[:n]); err == nil {
			t.Errorf("%d bytes read as entries", n)
		}
	}
}
