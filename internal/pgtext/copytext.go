package pgtext

// AppendCopyText appends v escaped as a field of COPY's text format:
// backslash, tab, newline and carriage return are backslashed, so the
// field never splits a line or a row.
func AppendCopyText[T ~string | ~[]byte](dst []byte, v T) []byte {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
