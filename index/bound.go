package index

// EntityIDBound is one past the highest entity ID below 2^24 the view can
// hold without growing its pages (a multiple of 512): a counter indexed by
// entity ID sized to it covers every entity but the few past 2^24.
func (v *View) EntityIDBound() uint64 { return uint64(len(v.entities.pages)) << idBits }
