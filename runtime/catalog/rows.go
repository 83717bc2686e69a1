package catalog

import (
	"database/sql"
	"fmt"
)

const itemColumns = `id, account_id, folder, base, subdir, name, blob, size, mtime, ino, flags, keywords, uid, fuid, fgid, fmode, valid_from, coalesce(valid_to, 0)`

const folderColumns = `id, account_id, name, dir, uid, gid, mode, uidvalidity, nextuid, guid, keywords, valid_from, coalesce(valid_to, 0)`

const accountVersionColumns = `id, account_id, uid, gid, mode, subscriptions, valid_from, coalesce(valid_to, 0)`

func scanItems(rows *sql.Rows, path string) ([]Item, error) {
	defer rows.Close()
	var out []Item
	for rows.Next() {
		var it Item
		var blob []byte
		var ino int64
		var kw string
		if err := rows.Scan(&it.ID, &it.AccountID, &it.Folder, &it.Base, &it.Subdir, &it.Name, &blob, &it.Size, &it.MTime, &ino,
			&it.Flags, &kw, &it.UID, &it.Owner.UID, &it.Owner.GID, &it.Owner.Mode, &it.ValidFrom, &it.ValidTo); err != nil {
			return nil, fmt.Errorf("catalog %s: reading items: %w", path, err)
		}
		if len(blob) != len(it.Blob) {
			return nil, fmt.Errorf("catalog %s: item %d has a blob id of %d bytes", path, it.ID, len(blob))
		}
		copy(it.Blob[:], blob)
		it.Ino = uint64(ino)
		it.Keywords = splitList(kw)
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog %s: reading items: %w", path, err)
	}
	return out, nil
}

func scanFolders(rows *sql.Rows, path string) ([]FolderVersion, error) {
	defer rows.Close()
	var out []FolderVersion
	for rows.Next() {
		var f FolderVersion
		var kw string
		if err := rows.Scan(&f.ID, &f.AccountID, &f.Name, &f.Dir, &f.Owner.UID, &f.Owner.GID, &f.Owner.Mode,
			&f.UIDValidity, &f.NextUID, &f.GUID, &kw, &f.ValidFrom, &f.ValidTo); err != nil {
			return nil, fmt.Errorf("catalog %s: reading folders: %w", path, err)
		}
		f.Keywords = splitList(kw)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog %s: reading folders: %w", path, err)
	}
	return out, nil
}

func scanAccountVersions(rows *sql.Rows, path string) ([]AccountVersion, error) {
	defer rows.Close()
	var out []AccountVersion
	for rows.Next() {
		var v AccountVersion
		if err := rows.Scan(&v.ID, &v.AccountID, &v.Owner.UID, &v.Owner.GID, &v.Owner.Mode, &v.Subscriptions, &v.ValidFrom, &v.ValidTo); err != nil {
			return nil, fmt.Errorf("catalog %s: reading account versions: %w", path, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog %s: reading account versions: %w", path, err)
	}
	return out, nil
}
