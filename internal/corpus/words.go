package corpus

import "strings"

// The vocabularies below make message bodies compress roughly like real mail
// (zstd gets about 3:1 on the text parts). Order matters: the generator picks
// by index, so changing a list changes every corpus.

var wordsEN = strings.Fields(`
the of and to a in is that for it as was with be by on not he this are or his
from at which but have an they you were her she there been one all we their has
would when if so no will more can out up about into than them some could only
other new its time these two may then first any like now my such over our even
most made after also did many before must through back years where much your way
well down should because each just those people how too little state good very
make world still own see men work long get here between both life being under
never day same another know while last might us great old year off come since
against go came right used take three meeting project report budget invoice
schedule review update proposal contract delivery customer server backup release
version team office quarter deadline agenda minutes draft feedback approval
request support ticket issue change plan launch design testing migration storage
network account password policy security invoice payment order shipment travel
conference workshop training lunch call thanks regards please attached find
below above follow question answer discussion decision summary numbers figures
results analysis forecast sales marketing finance legal contract partner vendor
supplier price quote estimate timeline milestone phase scope risk priority
action item owner status progress blocked done pending tomorrow today yesterday
monday tuesday wednesday thursday friday morning afternoon evening week month
calendar invite room building floor desk laptop phone screen printer document
spreadsheet slides presentation template form signature copy original final
revised comments notes ideas suggestion option alternative approach solution
problem error failure outage incident recovery restore archive mailbox folder
message email reply forward thread list subscribers newsletter digest weekly
monthly annual board committee members vote agreement terms conditions renewal
license subscription invoice receipt refund credit balance transfer bank
`)

var wordsDE = strings.Fields(`
der die das und ist nicht ein eine zu mit auf für von dem den im es sich auch
als wir sie ich bitte danke Grüße über Besprechung Termin morgen heute nächste
Woche Übersicht Änderungen Prüfung Bestätigung Rückmeldung Anhang beigefügt
Entwurf Rechnung Lieferung Kunde Projekt Zeitplan Budget Angebot Vertrag Büro
Mitarbeiter Geschäftsführung Abteilung Schlüssel Straße größer Größe möglich
müssen können würde hätte schön früh spät Frühjahr Gespräch Äußerung Öffnung
Zuständigkeit Verfügbarkeit Unterstützung Überweisung Kündigung Verlängerung
Sicherung Wiederherstellung Störung Lösung Vorschlag Entscheidung Ergebnis
`)

var firstNames = strings.Fields(`
alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia peggy
rupert sybil trent victor walter yasmin zoe anna ben clara david emma felix
greta hannah jonas klara lukas marie noah paul sofia tom ursula vera jakob lea
`)

var lastNames = strings.Fields(`
martin bernard dubois thomas robert richard petit durand leroy moreau simon
laurent lefebvre michel garcia muller schmidt schneider fischer weber meyer
wagner becker schulz hoffmann smith johnson williams brown jones miller davis
wilson anderson taylor moore jackson white harris clark lewis walker young
`)

var externalDomains = strings.Fields(`
gmail.com outlook.com yahoo.com gmx.de web.de orange.fr protonmail.com
acme-corp.com initech.net globex.org umbrella.io stark-industries.com
wayne-enterprises.com hooli.xyz vandelay.biz
`)

var companies = strings.Fields(`
Acme Initech Globex Umbrella Hooli Vandelay Wonka Cyberdyne Tyrell Soylent
`)

// Mailing lists deliver byte-identical copies to several accounts.
var mailingLists = []string{
	"golang-nuts", "dovecot", "postfix-users", "announce", "all-staff",
	"ops-alerts", "linux-kernel", "debian-security",
}

var subjectsEN = []string{
	"Meeting notes", "Quarterly report", "Invoice %d", "Project update",
	"Budget review", "Re: Schedule for next week", "Server migration plan",
	"Backup policy", "Contract renewal", "Travel arrangements", "Lunch on %s?",
	"Release %d.%d", "Your order %d has shipped", "Weekly digest",
	"Action items from the call", "Security advisory", "Holiday schedule",
	"Draft proposal", "Feedback on the slides", "Incident report %d",
}

var subjectsDE = []string{
	"Besprechung am %s", "Rechnung %d", "Änderungen im Zeitplan", "Grüße aus dem Büro",
	"Rückmeldung zum Entwurf", "Überweisung bestätigt", "Nächste Woche: Termin",
}

var weekdays = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}

// Attachments: name pattern, MIME type, and whether the content is text
// (compressible) or binary (pseudo-random, incompressible).
type attachKind struct {
	name, ctype string
	text        bool
}

var attachKinds = []attachKind{
	{"Invoice-%d.pdf", "application/pdf", false},
	{"IMG_%04d.jpg", "image/jpeg", false},
	{"scan-%d.png", "image/png", false},
	{"report-%d.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", false},
	{"slides-%d.pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", false},
	{"archive-%d.zip", "application/zip", false},
	{"export-%d.csv", "text/csv", true},
	{"notes-%d.txt", "text/plain", true},
}
