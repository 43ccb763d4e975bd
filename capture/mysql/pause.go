package mysql

// PausesDirection tells the pipeline to park the direction paused rather
// than restart it: the same event would stop it again until an operator
// has made the other side match (or declared a transform).
func (e *SchemaChangeError) PausesDirection() bool { return true }
