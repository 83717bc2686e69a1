package catalog

// Stamp is a folder's stamp (the mtimes of new/, cur/, dovecot-uidlist and
// dovecot-keywords) as the last full listing of the folder found it, and
// when that listing started (wall clock, Unix ns).
type Stamp struct {
	New, Cur, UIDList, Keywords int64
	ListedAt                    int64
}

// SetStamp records a folder's stamp after a full listing.
func (t *Tx) SetStamp(accountID int64, dir string, s Stamp) error {
	_, err := t.exec(`INSERT OR REPLACE INTO folder_stamps(account_id, dir, new_mtime, cur_mtime, uidlist_mtime, keywords_mtime, listed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, accountID, dir, s.New, s.Cur, s.UIDList, s.Keywords, s.ListedAt)
	return err
}

// ForgetStamps drops an account's stamps, so that its next scan lists
// every folder.
func (t *Tx) ForgetStamps(accountID int64) error {
	_, err := t.exec(`DELETE FROM folder_stamps WHERE account_id = ?`, accountID)
	return err
}
