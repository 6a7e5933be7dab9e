"""English console text → (Finnish, Swedish). Filled in by hand; see bot/console/words.py.

Terms used throughout: ticket = tiketti / ärende, queue = jono / kö, claim = ottaa käsittelyyn / ta,
shift = vuoro / skift, call-back = takaisinsoitto / återuppringning, saved reply = vakiovastaus /
standardsvar, internal note = sisäinen muistiinpano / intern anteckning, adviser = neuvoja / rådgivare,
supervisor = esihenkilö / förman, (person) key = tunniste / identifierare. Language names are in lower
case, as the languages' names are written in Finnish and Swedish.
"""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
    "(past the target)": ("(tavoiteaika ylittynyt)", "(målet överskridet)"),
    "A Telegram user id is a number (digits only).": (
        "Telegram-käyttäjätunniste on numero (vain numeroita).",
        "Ett Telegram-användar-id är ett tal (bara siffror).",
    ),
    "A colleague took that ticket a moment ago.": (
        "Kollega otti tiketin käsittelyyn hetki sitten.",
        "En kollega tog ärendet för en stund sedan.",
    ),
    "A conversation id is 1 to 255 characters long.": (
        "Keskustelun tunnisteessa on 1–255 merkkiä.",
        "Ett konversations-id är 1–255 tecken långt.",
    ),
    "Action": ("Toiminto", "Åtgärd"),
    "Add a note": ("Lisää muistiinpano", "Lägg till en anteckning"),
    "Add a saved reply": ("Lisää vakiovastaus", "Lägg till ett standardsvar"),
    "Add a shift": ("Lisää vuoro", "Lägg till ett skift"),
    "Add shift": ("Lisää vuoro", "Lägg till skift"),
    "Administrator": ("Ylläpitäjä", "Administratör"),
    "Admins only": ("Vain ylläpitäjille", "Endast för administratörer"),
    "Adviser": ("Neuvoja", "Rådgivare"),
    "Albanian": ("albania", "albanska"),
    "All": ("Kaikki", "Alla"),
    "All statuses": ("Kaikki tilat", "Alla statusar"),
    "Answered": ("Vastattu", "Besvarat"),
    "Arabic": ("arabia", "arabiska"),
    "Arrived": ("Saapunut", "Inkommit"),
    "As a supervisor you can still see and claim every ticket.": (
        "Esihenkilönä näet silti kaikki tiketit ja voit ottaa niitä käsittelyyn.",
        "Som förman ser du ändå alla ärenden och kan ta dem.",
    ),
    "Asked for a person": ("Pyysi neuvojaa", "Bad om en rådgivare"),
    "Assign": ("Osoita", "Tilldela"),
    "Attachments": ("Liitteet", "Bilagor"),
    "Attachments deleted": ("Poistetut liitteet", "Raderade bilagor"),
    "By due time (Finnish time). Numbers are shown in full on the ticket only.": (
        "Määräajan mukaan (Suomen aikaa). Numerot näkyvät kokonaan vain tiketillä.",
        "Efter tidsfrist (finsk tid). Numren visas i sin helhet bara i ärendet.",
    ),
    "By language": ("Kielen mukaan", "Efter språk"),
    "By queue": ("Jonon mukaan", "Efter kö"),
    "Call back": ("Soita takaisin", "Ring upp"),
    "Call recorded; the callback is closed.": (
        "Soitto kirjattu; takaisinsoitto on suljettu.",
        "Samtalet registrerat; återuppringningen är stängd.",
    ),
    "Call recorded; the callback waits for the next try.": (
        "Soitto kirjattu; takaisinsoitto odottaa seuraavaa yritystä.",
        "Samtalet registrerat; återuppringningen väntar på nästa försök.",
    ),
    "Call-back request": ("Takaisinsoittopyyntö", "Begäran om återuppringning"),
    "Call-back window": ("Takaisinsoiton ajankohta", "Tid för återuppringning"),
    "Call-backs": ("Takaisinsoitot", "Återuppringningar"),
    "Callbacks": ("Takaisinsoitot", "Återuppringningar"),
    "Called back": ("Soitettu takaisin", "Återuppringning gjord"),
    "Called — outcome": ("Soitettu — tulos", "Ringt — resultat"),
    "Calls": ("Soitot", "Samtal"),
    "Channel": ("Kanava", "Kanal"),
    "Channel (empty = all)": ("Kanava (tyhjä = kaikki)", "Kanal (tom = alla)"),
    "Chinese": ("kiina", "kinesiska"),
    "Choose Finnish, Swedish or English.": (
        "Valitse suomi, ruotsi tai englanti.",
        "Välj finska, svenska eller engelska.",
    ),
    "Choose an outcome from the list.": ("Valitse tulos luettelosta.", "Välj ett resultat i listan."),
    "Choose the kind of key from the list.": (
        "Valitse tunnisteen tyyppi luettelosta.",
        "Välj typ av identifierare i listan.",
    ),
    "City": ("Kaupunki", "Stad"),
    "City on shift": ("Vuorossa oleva kaupunki", "Stad i skift"),
    "City on shift at arrival": ("Vuorossa ollut kaupunki saapuessa", "Stad i skift vid ankomsten"),
    "Claim": ("Ota käsittelyyn", "Ta ärendet"),
    "Claim next ticket": ("Ota seuraava tiketti käsittelyyn", "Ta nästa ärende"),
    "Claim the ticket first: only its holder answers, transfers or closes it.": (
        "Ota tiketti ensin käsittelyyn: vain sen käsittelijä vastaa, siirtää tai sulkee sen.",
        "Ta ärendet först: bara den som har ärendet svarar, flyttar eller stänger det.",
    ),
    "Claim ticket {id}": ("Ota tiketti {id} käsittelyyn", "Ta ärende {id}"),
    "Claimed": ("Käsittelyssä", "Under behandling"),
    "Close": ("Sulje", "Stäng"),
    "Close ticket": ("Sulje tiketti", "Stäng ärendet"),
    "Closed": ("Suljettu", "Stängt"),
    "Console": ("Konsoli", "Konsol"),
    "Contact": ("Yhteystiedot", "Kontaktuppgifter"),
    "Conversation id": ("Keskustelun tunniste", "Konversations-id"),
    "Conversations": ("Keskustelut", "Konversationer"),
    "Conversations deleted": ("Poistetut keskustelut", "Raderade konversationer"),
    "Conversations kept as empty shells (their tickets remain)": (
        "Tyhjiksi jätetyt keskustelut (niiden tiketit säilyvät)",
        "Konversationer kvar som tomma skal (deras ärenden finns kvar)",
    ),
    "Count": ("Määrä", "Antal"),
    "Created": ("Luotu", "Skapat"),
    "Customer": ("Asiakas", "Kund"),
    "Customer satisfaction": ("Asiakastyytyväisyys", "Kundnöjdhet"),
    "{score} of 5": ("{score}/5", "{score} av 5"),
    "Comment:": ("Kommentti:", "Kommentar:"),
    "Asked, not answered": ("Kysytty, ei vastattu", "Frågat, inte besvarat"),
    (
        "Customers' messages are machine-translated into it when a translation is possible; each message "
        "shows whether it was."
    ): (
        (
            "Asiakkaiden viestit konekäännetään tälle kielelle, kun käännös on mahdollinen; jokaisessa "
            "viestissä näkyy, onko se käännetty."
        ),
        (
            "Kundernas meddelanden maskinöversätts till det språket när det är möjligt; vid varje meddelande "
            "syns om det har översatts."
        ),
    ),
    "Danish": ("tanska", "danska"),
    "Day": ("Päivä", "Dag"),
    "Delete": ("Poista", "Radera"),
    "Delete saved reply {title}": ("Poista vakiovastaus {title}", "Radera standardsvaret {title}"),
    "Download": ("Lataus", "Nedladdning"),
    "Download the data as JSON": ("Lataa tiedot JSON-muodossa", "Ladda ned uppgifterna som JSON"),
    "Due": ("Määräaika", "Tidsfrist"),
    "Duplicate": ("Kaksoiskappale", "Dubblett"),
    "Dutch": ("hollanti", "nederländska"),
    "E-mail": ("Sähköposti", "E-post"),
    "E-mail address": ("Sähköpostiosoite", "E-postadress"),
    "E-mail for a notice": ("Sähköposti ilmoitusta varten", "E-post för meddelande"),
    "Employer advisory (PKS)": ("Työnantajaneuvonta (PKS)", "Arbetsgivarrådgivning (huvudstadsregionen)"),
    "Ends (Finnish time)": ("Päättyy (Suomen aikaa)", "Slutar (finsk tid)"),
    "English": ("englanti", "engelska"),
    "Enter the value of the key.": ("Kirjoita tunnisteen arvo.", "Skriv identifierarens värde."),
    "Erase": ("Tietojen poisto", "Radering"),
    "Erase this person's data": ("Poista tämän henkilön tiedot", "Radera personens uppgifter"),
    (
        "Erasure cannot be undone. It deletes the conversations, messages, raw e-mails, attachments, phone "
        "calls and Telegram records found above, empties the tickets' personal fields (the tickets stay for "
        "statistics) and asks Rasa to forget the conversations."
    ): (
        (
            "Poistoa ei voi perua. Se poistaa yllä löydetyt keskustelut, viestit, alkuperäiset sähköpostit, "
            "liitteet, puhelut ja Telegram-tiedot, tyhjentää tikettien henkilötietokentät (tiketit säilyvät "
            "tilastointia varten) ja pyytää Rasaa unohtamaan keskustelut."
        ),
        (
            "Raderingen kan inte ångras. Den raderar konversationerna, meddelandena, de ursprungliga "
            "e-postmeddelandena, bilagorna, telefonsamtalen och Telegram-uppgifterna ovan, tömmer ärendenas "
            "personuppgiftsfält (ärendena finns kvar för statistiken) och ber Rasa glömma konversationerna."
        ),
    ),
    "Error:": ("Virhe:", "Fel:"),
    "Espoo": ("Espoo", "Esbo"),
    "Estonian": ("viro", "estniska"),
    "Every lookup, download and erasure is recorded in the audit log (the act and its size, not the data).": (
        (
            "Jokainen haku, lataus ja poisto kirjataan tarkastuslokiin (toimenpide ja sen laajuus, ei itse "
            "tietoja)."
        ),
        (
            "Varje sökning, nedladdning och radering förs in i granskningsloggen (åtgärden och dess "
            "omfattning, inte uppgifterna)."
        ),
    ),
    "File:": ("Tiedosto:", "Fil:"),
    "Filter tickets": ("Suodata tikettejä", "Filtrera ärenden"),
    "Find": ("Hae", "Sök"),
    (
        "Find everything Luotsi holds about one person (GDPR articles 15, 17 and 20): conversations, "
        "messages, tickets, raw e-mails, attachments, phone calls and Telegram records."
    ): (
        (
            "Hae kaikki tiedot, joita Luotsissa on yhdestä henkilöstä (tietosuoja-asetuksen artiklat 15, 17 "
            "ja 20): keskustelut, viestit, tiketit, alkuperäiset sähköpostit, liitteet, puhelut ja "
            "Telegram-tiedot."
        ),
        (
            "Sök allt som Luotsi har om en person (artiklarna 15, 17 och 20 i dataskyddsförordningen): "
            "konversationer, meddelanden, ärenden, ursprungliga e-postmeddelanden, bilagor, telefonsamtal "
            "och Telegram-uppgifter."
        ),
    ),
    "Find the person by one key": ("Hae henkilö yhdellä tunnisteella", "Sök personen med en identifierare"),
    "Finnish": ("suomi", "finska"),
    "For colleagues only: never sent to the customer.": (
        "Vain kollegoille: ei koskaan lähetetä asiakkaalle.",
        "Endast för kolleger: skickas aldrig till kunden.",
    ),
    (
        "For example maija@example.fi, 040 123 4567 or +358401234567, a Telegram user id (digits), or a "
        "conversation id (Luotsi's own or the web chat's)."
    ): (
        (
            "Esimerkiksi maija@example.fi, 040 123 4567 tai +358401234567, Telegram-käyttäjätunniste "
            "(numeroita) tai keskustelun tunniste (Luotsin oma tai verkkochatin)."
        ),
        (
            "Till exempel maija@example.fi, 040 123 4567 eller +358401234567, ett Telegram-användar-id "
            "(siffror) eller ett konversations-id (Luotsis eget eller webbchattens)."
        ),
    ),
    "French": ("ranska", "franska"),
    "From": ("Alkaa", "Från"),
    "German": ("saksa", "tyska"),
    "Give the saved reply a title and a text.": (
        "Anna vakiovastaukselle otsikko ja teksti.",
        "Ge standardsvaret en rubrik och en text.",
    ),
    "Give the ticket to": ("Anna tiketti kollegalle", "Ge ärendet till"),
    "Handed over": ("Siirretty neuvojalle", "Överlämnat till rådgivare"),
    "Helsinki": ("Helsinki", "Helsingfors"),
    "Hindi": ("hindi", "hindi"),
    "Hours": ("Kellonajat", "Klockslag"),
    "Hung up in the phone menu": ("Katkaisi puhelun puhelinvalikossa", "Lade på i telefonmenyn"),
    "Hungarian": ("unkari", "ungerska"),
    "I read and write in": ("Luen ja kirjoitan kielellä", "Jag läser och skriver på"),
    "Insert": ("Lisää", "Infoga"),
    "Internal notes": ("Sisäiset muistiinpanot", "Interna anteckningar"),
    "Italian": ("italia", "italienska"),
    "Jobseekers, {area}": ("Työnhakijat, {area}", "Arbetssökande, {area}"),
    "Key:": ("Tunniste:", "Identifierare:"),
    "Keyboard shortcuts": ("Pikanäppäimet", "Kortkommandon"),
    "Keyboard shortcuts are off.": ("Pikanäppäimet ovat pois käytöstä.", "Kortkommandona är avstängda."),
    "Keyboard shortcuts are on.": ("Pikanäppäimet ovat käytössä.", "Kortkommandona är påslagna."),
    "Kind of data": ("Tietojen laji", "Typ av uppgifter"),
    "Kind of key": ("Tunnisteen tyyppi", "Typ av identifierare"),
    "Kurdish": ("kurdi", "kurdiska"),
    "Language": ("Kieli", "Språk"),
    "Language self-assessment": ("Kielitaidon itsearvio", "Självbedömning av språkkunskaper"),
    "Last message": ("Viimeisin viesti", "Senaste meddelande"),
    "Latvian": ("latvia", "lettiska"),
    "Left a voicemail message": ("Jätetty vastaajaviesti", "Lämnat ett röstmeddelande"),
    "Line busy": ("Varattu", "Upptaget"),
    "Lithuanian": ("liettua", "litauiska"),
    "Longest wait (opening hours)": ("Pisin odotus (aukioloaikana)", "Längsta väntan (öppettid)"),
    "Longest wait first": ("Pisimpään odottanut ensin", "Längst väntan först"),
    "Look up another person": ("Hae toista henkilöä", "Sök en annan person"),
    "Luotsi (assistant)": ("Luotsi (avustaja)", "Luotsi (assistent)"),
    "Luotsi adviser console": ("Luotsin neuvojakonsoli", "Luotsis rådgivarkonsol"),
    "Luotsi console": ("Luotsi-konsoli", "Luotsi-konsolen"),
    "Machine translation": ("Konekäännös", "Maskinöversättning"),
    "Mailbox": ("Sähköpostilaatikko", "E-postlåda"),
    "Messages": ("Viestit", "Meddelanden"),
    "Messages deleted": ("Poistetut viestit", "Raderade meddelanden"),
    "Mine": ("Oma", "Mitt"),
    "My open tickets": ("Omat avoimet tiketit", "Mina öppna ärenden"),
    "My queues": ("Omat jonot", "Mina köer"),
    "Name": ("Nimi", "Namn"),
    "New messages on this ticket.": ("Tiketillä on uusia viestejä.", "Nya meddelanden i ärendet."),
    "Newest first": ("Uusin ensin", "Nyaste först"),
    "Next page": ("Seuraava sivu", "Nästa sida"),
    "No answer": ("Ei vastannut", "Inget svar"),
    "No callbacks waiting in your shift's queues.": (
        "Vuorosi jonoissa ei ole odottavia takaisinsoittoja.",
        "Inga återuppringningar väntar i ditt skifts köer.",
    ),
    "No callbacks waiting.": ("Ei odottavia takaisinsoittoja.", "Inga återuppringningar väntar."),
    "No notes yet.": ("Ei vielä muistiinpanoja.", "Inga anteckningar ännu."),
    "No response from the customer": ("Asiakas ei vastannut", "Kunden svarade inte"),
    "No saved replies yet.": ("Ei vielä vakiovastauksia.", "Inga standardsvar ännu."),
    "No shifts this week.": ("Ei vuoroja tällä viikolla.", "Inga skift den här veckan."),
    "No such colleague.": ("Kollegaa ei löydy.", "Kollegan finns inte."),
    "No such queue.": ("Jonoa ei löydy.", "Kön finns inte."),
    "No such ticket on your shift.": (
        "Vuorossasi ei ole tällaista tikettiä.",
        "Det finns inget sådant ärende i ditt skift.",
    ),
    "No tickets match.": ("Ei hakua vastaavia tikettejä.", "Inga ärenden matchar."),
    "No tickets waiting in your queues.": (
        "Jonoissasi ei ole odottavia tikettejä.",
        "Inga ärenden väntar i dina köer.",
    ),
    "No tickets waiting.": ("Ei odottavia tikettejä.", "Inga ärenden väntar."),
    "No translation service is configured: messages are shown as written.": (
        "Käännöspalvelua ei ole otettu käyttöön: viestit näytetään sellaisinaan.",
        "Ingen översättningstjänst är konfigurerad: meddelandena visas som de skrevs.",
    ),
    (
        "No — Rasa's conversation store could not be reached, so it may still hold these conversations. The "
        "erasure in Luotsi's database stands, and the audit entry records that the store was not emptied."
    ): (
        (
            "Ei — Rasan keskustelutietokantaan ei saatu yhteyttä, joten nämä keskustelut voivat yhä olla siellä. "
            "Poisto Luotsin tietokannasta on voimassa, ja tarkastuslokiin on kirjattu, ettei tietokantaa "
            "tyhjennetty."
        ),
        (
            "Nej — Rasas konversationsdatabas kunde inte nås, så den kan fortfarande innehålla dessa "
            "konversationer. Raderingen i Luotsis databas gäller, och i granskningsloggen står det att "
            "databasen inte tömdes."
        ),
    ),
    "None found.": ("Ei löytynyt.", "Inga hittades."),
    "None.": ("Ei yhtään.", "Inga."),
    "Norwegian": ("norja", "norska"),
    "Not translated yet": ("Ei vielä käännetty", "Inte översatt ännu"),
    "Not translated: no translation service": (
        "Ei käännetty: ei käännöspalvelua",
        "Inte översatt: ingen översättningstjänst",
    ),
    "Not translated: the language was not recognised": (
        "Ei käännetty: kieltä ei tunnistettu",
        "Inte översatt: språket kändes inte igen",
    ),
    "Not translated: the translation service did not answer": (
        "Ei käännetty: käännöspalvelu ei vastannut",
        "Inte översatt: översättningstjänsten svarade inte",
    ),
    "Not understood by the assistant": ("Avustaja ei ymmärtänyt", "Assistenten förstod inte"),
    "Note added.": ("Muistiinpano lisätty.", "Anteckningen har lagts till."),
    "Nothing waiting.": ("Ei odottavia.", "Inget väntar."),
    "Nothing was found for this key.": (
        "Tällä tunnisteella ei löytynyt mitään.",
        "Inget hittades med den här identifieraren.",
    ),
    "Number": ("Numero", "Nummer"),
    "Number for a call-back": ("Takaisinsoittonumero", "Nummer för återuppringning"),
    "Number:": ("Numero:", "Nummer:"),
    "Oldest since": ("Vanhin saapui", "Äldsta inkom"),
    "Open (waiting or claimed)": (
        "Avoimet (odottaa tai käsittelyssä)",
        "Öppna (väntar eller under behandling)",
    ),
    "Outcome": ("Tulos", "Resultat"),
    "Outgoing mail files deleted": (
        "Poistetut lähtevän postin tiedostot",
        "Raderade filer med utgående e-post",
    ),
    "Pages": ("Sivut", "Sidor"),
    "Password": ("Salasana", "Lösenord"),
    "Past their response-time target (opening hours)": (
        "Vastausaikatavoite ylittynyt (aukioloaikana)",
        "Svarstidsmålet överskridet (öppettid)",
    ),
    "Persian": ("persia", "persiska"),
    "Personal data": ("Henkilötiedot", "Personuppgifter"),
    "Personal data erased": ("Henkilötiedot poistettu", "Personuppgifterna har raderats"),
    "Personal data found": ("Löydetyt henkilötiedot", "Hittade personuppgifter"),
    "Personal data of one person": ("Yhden henkilön henkilötiedot", "En persons personuppgifter"),
    "Phone": ("Puhelin", "Telefon"),
    "Phone calls": ("Puhelut", "Telefonsamtal"),
    "Phone calls deleted": ("Poistetut puhelut", "Raderade telefonsamtal"),
    "Phone number": ("Puhelinnumero", "Telefonnummer"),
    "Polish": ("puola", "polska"),
    "Portuguese": ("portugali", "portugisiska"),
    "Previous page": ("Edellinen sivu", "Föregående sida"),
    "Priority first": ("Kiireelliset ensin", "Prioriterade först"),
    "Queue": ("Jono", "Kö"),
    "Queues": ("Jonot", "Köer"),
    "Queues of the whole region": ("Koko alueen jonot", "Hela regionens köer"),
    "Rasa forgot the conversations": ("Rasa unohti keskustelut", "Rasa glömde konversationerna"),
    "Raw e-mails": ("Alkuperäiset sähköpostit", "Ursprungliga e-postmeddelanden"),
    "Raw e-mails deleted": ("Poistetut alkuperäiset sähköpostit", "Raderade ursprungliga e-postmeddelanden"),
    "Reached the customer": ("Asiakas tavoitettiin", "Kunden nåddes"),
    "Record the call": ("Kirjaa soitto", "Registrera samtalet"),
    "Referred to another service": ("Ohjattu toiseen palveluun", "Hänvisat till en annan tjänst"),
    "Replies you use often. On a ticket you insert them into the reply box and edit them before sending.": (
        (
            "Usein käyttämäsi vastaukset. Tiketillä lisäät ne vastauskenttään ja muokkaat niitä ennen "
            "lähettämistä."
        ),
        (
            "Svar som du ofta använder. I ett ärende infogar du dem i svarsrutan och redigerar dem innan du "
            "skickar."
        ),
    ),
    "Reply": ("Vastaus", "Svar"),
    "Reply sent.": ("Vastaus lähetetty.", "Svaret har skickats."),
    "Romanian": ("romania", "rumänska"),
    "Russian": ("venäjä", "ryska"),
    "Save": ("Tallenna", "Spara"),
    "Save note": ("Tallenna muistiinpano", "Spara anteckningen"),
    "Saved replies": ("Vakiovastaukset", "Standardsvar"),
    "Saved reply deleted.": ("Vakiovastaus poistettu.", "Standardsvaret har raderats."),
    "Saved reply stored.": ("Vakiovastaus tallennettu.", "Standardsvaret har sparats."),
    "Search": ("Haku", "Sök"),
    "Search finds a ticket number, or words in the summary or the messages.": (
        "Haku löytää tiketin numeron tai sanoja tiivistelmästä tai viesteistä.",
        "Sökningen hittar ett ärendenummer eller ord i sammanfattningen eller meddelandena.",
    ),
    "Send reply": ("Lähetä vastaus", "Skicka svaret"),
    "Sent as written, in the customer's language": (
        "Lähetetty sellaisenaan asiakkaan kielellä",
        "Skickat som det skrevs, på kundens språk",
    ),
    "Service needs": ("Palvelutarpeet", "Servicebehov"),
    "Share with every adviser": ("Jaa kaikille neuvojille", "Dela med alla rådgivare"),
    "Shared with everyone": ("Jaettu kaikille", "Delat med alla"),
    "Shift added.": ("Vuoro lisätty.", "Skiftet har lagts till."),
    "Shift coverage — today and this week": (
        "Vuorot — tänään ja tällä viikolla",
        "Skift — i dag och den här veckan",
    ),
    "Show": ("Näytä", "Visa"),
    "Sign in": ("Kirjaudu sisään", "Logga in"),
    "Sign out": ("Kirjaudu ulos", "Logga ut"),
    "Single keys work when no text field has focus.": (
        "Yhden näppäimen pikanäppäimet toimivat, kun mikään tekstikenttä ei ole aktiivinen.",
        "Kortkommandon med en tangent fungerar när inget textfält har fokus.",
    ),
    "Skip to content": ("Siirry sisältöön", "Hoppa till innehållet"),
    "Somali": ("somali", "somaliska"),
    "Sort": ("Järjestys", "Sortering"),
    "Spam": ("Roskaviesti", "Skräppost"),
    "Spanish": ("espanja", "spanska"),
    "Starts (Finnish time)": ("Alkaa (Suomen aikaa)", "Börjar (finsk tid)"),
    "Status": ("Tila", "Status"),
    "Summary": ("Tiivistelmä", "Sammanfattning"),
    "Supervisor": ("Esihenkilö", "Förman"),
    "Supervisor view": ("Esihenkilönäkymä", "Förmansvy"),
    "Swedish": ("ruotsi", "svenska"),
    "System": ("Järjestelmä", "System"),
    "Target": ("Tavoite", "Mål"),
    "Telegram": ("Telegram", "Telegram"),
    "Telegram chats": ("Telegram-keskustelut", "Telegram-chattar"),
    "Telegram chats deleted": ("Poistetut Telegram-keskustelut", "Raderade Telegram-chattar"),
    "Telegram updates": ("Telegram-päivitykset", "Telegram-uppdateringar"),
    "Telegram updates deleted": ("Poistetut Telegram-päivitykset", "Raderade Telegram-uppdateringar"),
    "Telegram user id": ("Telegram-käyttäjätunniste", "Telegram-användar-id"),
    "Text": ("Teksti", "Text"),
    "Thai": ("thai", "thailändska"),
    "That is not allowed for your role or shift.": (
        "Roolisi tai vuorosi ei salli tätä.",
        "Det är inte tillåtet för din roll eller ditt skift.",
    ),
    "The assistant's answers in the customer's language ({language})": (
        "Avustajan vastaukset asiakkaan kielellä ({language})",
        "Assistentens svar på kundens språk ({language})",
    ),
    "The confirmation does not match the key. Nothing was erased.": (
        "Vahvistus ei vastaa tunnistetta. Mitään ei poistettu.",
        "Bekräftelsen stämmer inte med identifieraren. Inget raderades.",
    ),
    "The confirmation is empty. Nothing was erased.": (
        "Vahvistus on tyhjä. Mitään ei poistettu.",
        "Bekräftelsen är tom. Inget raderades.",
    ),
    "The customer's earlier tickets": ("Asiakkaan aiemmat tiketit", "Kundens tidigare ärenden"),
    "The customer's matter is handled: close the ticket": (
        "Asiakkaan asia on hoidettu: sulje tiketti",
        "Kundens fråga är behandlad: stäng ärendet",
    ),
    "The data found by the key ({kind}) has been erased. The erasure is recorded in the audit log.": (
        "Tunnisteella ({kind}) löydetyt tiedot on poistettu. Poisto on kirjattu tarkastuslokiin.",
        (
            "Uppgifterna som hittades med identifieraren ({kind}) har raderats. Raderingen har förts in i "
            "granskningsloggen."
        ),
    ),
    "The form expired. Please try again.": (
        "Lomake vanheni. Yritä uudelleen.",
        "Formuläret har gått ut. Försök igen.",
    ),
    "The key cannot be used:": ("Tunnistetta ei voi käyttää:", "Identifieraren kan inte användas:"),
    "The list was updated.": ("Luettelo päivittyi.", "Listan har uppdaterats."),
    "The reply holds characters that cannot be sent (such as NUL).": (
        "Vastauksessa on merkkejä, joita ei voi lähettää (kuten NUL).",
        "Svaret innehåller tecken som inte kan skickas (till exempel NUL).",
    ),
    "The reply is written in": ("Vastauksen kieli", "Svaret är skrivet på"),
    "The shared PKS advisory of Helsinki, Espoo and Vantaa.": (
        "Helsingin, Espoon ja Vantaan yhteinen PKS-neuvonta.",
        "Helsingfors, Esbos och Vandas gemensamma rådgivning i huvudstadsregionen.",
    ),
    "The shift could not be added: check the city, queue and times (end after start).": (
        "Vuoroa ei voitu lisätä: tarkista kaupunki, jono ja ajat (loppu alun jälkeen).",
        "Skiftet kunde inte läggas till: kontrollera stad, kö och tider (slutet efter början).",
    ),
    "The ticket is already closed.": ("Tiketti on jo suljettu.", "Ärendet är redan stängt."),
    "This is not a phone number.": ("Tämä ei ole puhelinnumero.", "Det här är inte ett telefonnummer."),
    "This is not an e-mail address.": ("Tämä ei ole sähköpostiosoite.", "Det här är inte en e-postadress."),
    "This ticket has changed. Reload the page to see it.": (
        "Tiketti on muuttunut. Lataa sivu uudelleen nähdäksesi muutokset.",
        "Ärendet har ändrats. Ladda om sidan för att se ändringarna.",
    ),
    "Tick the box to confirm closing the ticket.": (
        "Vahvista tiketin sulkeminen rastittamalla ruutu.",
        "Kryssa i rutan för att bekräfta att ärendet stängs.",
    ),
    "Ticket": ("Tiketti", "Ärende"),
    "Ticket assigned.": ("Tiketti osoitettu.", "Ärendet har tilldelats."),
    "Ticket closed.": ("Tiketti suljettu.", "Ärendet har stängts."),
    "Ticket events with details emptied": (
        "Tikettien tapahtumat, joiden tiedot tyhjennettiin",
        "Ärendehändelser med tömda detaljer",
    ),
    "Ticket transferred.": ("Tiketti siirretty.", "Ärendet har flyttats."),
    "Ticket {id}": ("Tiketti {id}", "Ärende {id}"),
    "Tickets": ("Tiketit", "Ärenden"),
    "Tickets with personal fields emptied": (
        "Tiketit, joiden henkilötietokentät tyhjennettiin",
        "Ärenden med tömda personuppgiftsfält",
    ),
    "Title": ("Otsikko", "Rubrik"),
    "To": ("Päättyy", "Till"),
    "To confirm, type the key again ({kind})": (
        "Vahvista kirjoittamalla tunniste uudelleen ({kind})",
        "Bekräfta genom att skriva identifieraren igen ({kind})",
    ),
    "To queue": ("Jonoon", "Till kö"),
    "Too many failed sign-ins. Wait a few minutes and try again.": (
        "Liian monta epäonnistunutta kirjautumista. Odota muutama minuutti ja yritä uudelleen.",
        "För många misslyckade inloggningar. Vänta några minuter och försök igen.",
    ),
    "Topic": ("Aihe", "Ämne"),
    "Transcript": ("Viestihistoria", "Meddelandehistorik"),
    "Transfer": ("Siirrä", "Flytta"),
    "Turkish": ("turkki", "turkiska"),
    "Ukrainian": ("ukraina", "ukrainska"),
    "Unknown": ("tuntematon kieli", "okänt språk"),
    "Use single-key shortcuts": (
        "Käytä yhden näppäimen pikanäppäimiä",
        "Använd kortkommandon med en tangent",
    ),
    "Username": ("Käyttäjätunnus", "Användarnamn"),
    "Value": ("Arvo", "Värde"),
    "Vantaa": ("Vantaa", "Vanda"),
    "Vietnamese": ("vietnam", "vietnamesiska"),
    "Waited (opening hours)": ("Odottanut (aukioloaikana)", "Väntat (öppettid)"),
    "Waiting": ("Odottaa", "Väntar"),
    "Waiting by city and language": ("Odottavat kaupungin ja kielen mukaan", "Väntande efter stad och språk"),
    "Web chat": ("Verkkochat", "Webbchatt"),
    "What": ("Mitä", "Vad"),
    "What this key finds (message bodies are only in the download)": (
        "Mitä tällä tunnisteella löytyy (viestien sisältö on vain ladattavassa tiedostossa)",
        "Vad identifieraren hittar (meddelandenas innehåll finns bara i nedladdningen)",
    ),
    "What was erased": ("Mitä poistettiin", "Vad som raderades"),
    "Whose": ("Kenen", "Vems"),
    "Why": ("Syy", "Orsak"),
    "Working language saved.": ("Työkieli tallennettu.", "Arbetsspråket har sparats."),
    "Write a reply first.": ("Kirjoita ensin vastaus.", "Skriv ett svar först."),
    "Written in": ("Kirjoituskieli", "Skrivet på"),
    "Wrong number": ("Väärä numero", "Fel nummer"),
    "Wrong username or password.": ("Väärä käyttäjätunnus tai salasana.", "Fel användarnamn eller lösenord."),
    "Yes": ("Kyllä", "Ja"),
    "You already hold as many open tickets as you may. Close one first.": (
        "Sinulla on jo enimmäismäärä avoimia tikettejä. Sulje ensin jokin niistä.",
        "Du har redan så många öppna ärenden som tillåts. Stäng ett först.",
    ),
    "You are not on shift now: your city staffs no queue at this hour.": (
        "Et ole nyt vuorossa: kaupunkisi ei päivystä yhtään jonoa tähän aikaan.",
        "Du är inte i skift nu: din stad bemannar ingen kö den här tiden.",
    ),
    "You can see the region's figures below; tickets open to you when your city's shift starts.": (
        "Alla näet alueen luvut; tiketit avautuvat sinulle, kun kaupunkisi vuoro alkaa.",
        "Nedan ser du regionens siffror; ärendena öppnas för dig när din stads skift börjar.",
    ),
    "You see a summary first; from there you can download the data as JSON or erase it.": (
        "Näet ensin yhteenvedon; siitä voit ladata tiedot JSON-muodossa tai poistaa ne.",
        "Du ser först en sammanfattning; därifrån kan du ladda ned uppgifterna som JSON eller radera dem.",
    ),
    "You serve in:": ("Palvelukielesi:", "Du betjänar på:"),
    "Your reply (goes to the customer's {channel})": (
        "Vastauksesi (lähtee asiakkaalle: {channel})",
        "Ditt svar (går till kunden via {channel})",
    ),
    "Your session has expired. Please sign in again.": (
        "Istuntosi on vanhentunut. Kirjaudu uudelleen sisään.",
        "Din session har gått ut. Logga in igen.",
    ),
    "Your shift now ({city}):": ("Vuorosi nyt ({city}):", "Ditt skift nu ({city}):"),
    "a former colleague": ("entinen kollega", "en tidigare kollega"),
    "a self-assessment, not a certificate": ("itsearvio, ei todistus", "en självbedömning, inte ett intyg"),
    "adviser needed": ("tarvitsee neuvojaa", "behöver rådgivare"),
    "arrived on {city}'s shift": ("saapui, kun vuorossa oli {city}", "kom in under skiftet i {city}"),
    "back to my queues": ("takaisin omiin jonoihin", "tillbaka till mina köer"),
    "claim the next ticket": ("ota seuraava tiketti käsittelyyn", "ta nästa ärende"),
    "consent given": ("suostumus annettu", "samtycke givet"),
    "due": ("määräaika", "tidsfrist"),
    "hung up": ("katkaisi puhelun", "lade på"),
    "hung up in the phone menu": ("katkaisi puhelun puhelinvalikossa", "lade på i telefonmenyn"),
    "interpreter": ("tulkki", "tolk"),
    "machine-translated for the customer, marked as such": (
        "konekäännetään asiakkaalle ja merkitään konekäännökseksi",
        "maskinöversätts för kunden och märks som maskinöversättning",
    ),
    "needs an interpreter": ("tarvitsee tulkin", "behöver tolk"),
    "none found": ("ei löytynyt", "inga hittades"),
    "not assessed": ("ei arvioitu", "inte bedömd"),
    "not delivered": ("ei toimitettu", "inte levererat"),
    "not known:": ("ei tiedossa:", "okänt:"),
    "overall": ("kokonaistaso", "helhetsnivå"),
    "page {page} of {pages}": ("sivu {page}/{pages}", "sida {page} av {pages}"),
    "priority": ("kiireellinen", "prioriterat"),
    "profile:": ("profiili:", "profil:"),
    "reaches the citizenship level": (
        "saavuttaa kansalaisuuteen vaadittavan tason",
        "når nivån för medborgarskap",
    ),
    "search the tickets": ("hae tikettejä", "sök ärenden"),
    "send the form you are writing in": (
        "lähetä lomake, jota olet kirjoittamassa",
        "skicka formuläret du skriver i",
    ),
    "sending…": ("lähetetään…", "skickas…"),
    "sent as written": ("lähetetään sellaisenaan", "skickas som det skrevs"),
    "stopped before the end": ("keskeytyi ennen loppua", "avbröts före slutet"),
    "topic:": ("aihe:", "ämne:"),
    "unknown": ("tuntematon", "okänt"),
    "waited {time}": ("odottanut {time}", "väntat {time}"),
    "write a reply (on a ticket)": ("kirjoita vastaus (tiketillä)", "skriv ett svar (i ett ärende)"),
    "write an internal note (on a ticket)": (
        "kirjoita sisäinen muistiinpano (tiketillä)",
        "skriv en intern anteckning (i ett ärende)",
    ),
    "yes": ("kyllä", "ja"),
    "no": ("ei", "nej"),
    "{n} call(s) so far.": ("Soittoja tähän mennessä: {n}.", "Samtal hittills: {n}."),
    "{n} tickets": ("Tikettejä: {n}", "Ärenden: {n}"),
    "{n} wait in the region's queues for the advisers on shift.": (
        "Alueen jonoissa odottaa vuorossa oleville neuvojille yhteensä {n}.",
        "{n} väntar i regionens köer på rådgivarna i skift.",
    ),
    # employers' structured intake (issue 17): bot/console/employer.py, intake.html, supervisor_employer.html
    "Recruitment assignment": ("Rekrytointitoimeksianto", "Rekryteringsuppdrag"),
    "Change-security notice": ("Muutosturvailmoitus", "Anmälan om omställningsskydd"),
    "Coordination case": ("Koordinoitava asia", "Samordningsärende"),
    "Coordination case: 10 or more people, all three cities": (
        "Koordinoitava asia: vähintään 10 henkilöä, kaikki kolme kaupunkia",
        "Samordningsärende: minst 10 personer, alla tre städer",
    ),
    "Coordination cases (10 or more people affected)": (
        "Koordinoitavat asiat (muutos koskee vähintään 10 henkilöä)",
        "Samordningsärenden (förändringen gäller minst 10 personer)",
    ),
    "{affected} of {staff} people": ("{affected}/{staff} henkilöä", "{affected} av {staff} personer"),
    "Company": ("Yritys", "Företag"),
    "business ID": ("Y-tunnus", "FO-nummer"),
    "Contact person": ("Yhteyshenkilö", "Kontaktperson"),
    "Job title": ("Tehtävänimike", "Befattning"),
    "Positions": ("Paikkoja", "Platser"),
    "Municipality": ("Kunta", "Kommun"),
    "Start date": ("Aloituspäivä", "Startdatum"),
    "Duration": ("Kesto", "Längd"),
    "Permanent": ("Vakituinen", "Fast anställning"),
    "Fixed-term, {months} months": ("Määräaikainen, {months} kk", "Visstid, {months} månader"),
    "Hours a week": ("Tunteja viikossa", "Timmar i veckan"),
    "Languages needed": ("Tarvittavat kielet", "Språk som behövs"),
    "Other requirements": ("Muut vaatimukset", "Andra krav"),
    "Training route welcome": ("Koulutuspolku kiinnostaa", "Intresserad av utbildningsväg"),
    "Subsidies welcome": ("Tuet kiinnostavat", "Intresserad av stöd"),
    "May be shared across the region": ("Saa jakaa koko seudulle", "Får delas i hela regionen"),
    "Supports that may apply": ("Mahdolliset tuet ja palvelut", "Stöd och tjänster som kan passa"),
    "Staff in total": ("Henkilöstö yhteensä", "Personal sammanlagt"),
    "People affected": ("Muutos koskee (henkilöä)", "Berörda personer"),
    "Kind of change": ("Muutoksen laji", "Typ av förändring"),
    "Dismissals": ("Irtisanomiset", "Uppsägningar"),
    "Lay-offs": ("Lomautukset", "Permitteringar"),
    "Change negotiations start": ("Muutosneuvottelut alkavat", "Omställningsförhandlingarna börjar"),
    "Duties": ("Velvoitteet", "Skyldigheter"),
    "Future skill needs": ("Tulevat osaamistarpeet", "Framtida kompetensbehov"),
    "Employer exports": ("Työnantajatietojen vienti", "Export av arbetsgivaruppgifter"),
    "Recruitment assignments (CSV, for Työmarkkinatori)": (
        "Rekrytointitoimeksiannot (CSV, Työmarkkinatorille)",
        "Rekryteringsuppdrag (CSV, för Jobbmarknaden)",
    ),
    "Future skill needs, grouped (CSV, no personal data)": (
        "Tulevat osaamistarpeet ryhmiteltyinä (CSV, ei henkilötietoja)",
        "Framtida kompetensbehov i grupper (CSV, inga personuppgifter)",
    ),
    # supervisors' reports (issue 18): bot/console/insights.py, insights_*.html, chart.html, supervisor_insights.html
    "Reports": ("Raportit", "Rapporter"),
    "Performance over time": ("Toiminta viikoittain", "Verksamheten vecka för vecka"),
    "Performance over time: contacts, hand-offs, waits, targets, satisfaction": (
        "Toiminta viikoittain: yhteydenotot, siirrot neuvojalle, odotusajat, tavoiteajat, tyytyväisyys",
        "Verksamheten vecka för vecka: kontakter, överlämningar, väntetider, mål, nöjdhet",
    ),
    "Unanswered questions": ("Vastaamatta jääneet kysymykset", "Obesvarade frågor"),
    "Unanswered questions, grouped (past week or a chosen period)": (
        "Vastaamatta jääneet kysymykset ryhmiteltyinä (viime viikko tai valittu jakso)",
        "Obesvarade frågor i grupper (senaste veckan eller en vald period)",
    ),
    "Questions the assistant could not answer: it did not understand, its clarifying question did not help, or the "
    "customer asked for a person right after its answer. Similar questions are grouped per language; personal data "
    "is masked.": (
        "Kysymykset, joihin avustaja ei osannut vastata: se ei ymmärtänyt, sen tarkentava kysymys ei auttanut tai "
        "asiakas pyysi neuvojaa heti sen vastauksen jälkeen. Samankaltaiset kysymykset on ryhmitelty kielittäin; "
        "henkilötiedot on peitetty.",
        "Frågor som assistenten inte kunde besvara: den förstod inte, dess preciserande fråga hjälpte inte eller "
        "kunden bad om en rådgivare direkt efter dess svar. Liknande frågor är grupperade per språk; "
        "personuppgifter är dolda.",
    ),
    "Choose the period": ("Valitse jakso", "Välj period"),
    "The dates could not be used: the start must be on or before the end, at most a year apart. Showing the past "
    "week.": (
        "Päivämääriä ei voitu käyttää: alun on oltava ennen loppua tai sama päivä ja enintään vuoden päässä siitä. "
        "Näytetään viime viikko.",
        "Datumen kunde inte användas: början måste vara samma dag som eller före slutet och högst ett år från det. "
        "Den senaste veckan visas.",
    ),
    "{n} unanswered questions from {first} to {last}.": (
        "Vastaamatta jääneitä kysymyksiä {first}–{last}: {n}.",
        "Obesvarade frågor {first}–{last}: {n}.",
    ),
    "At most {messages} customer messages are read per run (the newest of the period), and at most {wordings} "
    "different wordings per language are grouped.": (
        "Kerralla luetaan enintään {messages} asiakkaan viestiä (jakson uusimmat), ja kunkin kielen kysymyksistä "
        "ryhmitellään enintään {wordings} erilaista muotoilua.",
        "Högst {messages} kundmeddelanden läses per gång (periodens nyaste), och högst {wordings} olika "
        "formuleringar per språk grupperas.",
    ),
    "This period reached the limit: older questions are not included.": (
        "Tällä jaksolla raja tuli vastaan: vanhemmat kysymykset eivät ole mukana.",
        "Perioden nådde gränsen: äldre frågor är inte med.",
    ),
    "Download the groups (CSV)": ("Lataa ryhmät (CSV)", "Ladda ner grupperna (CSV)"),
    "Questions": ("Kysymyksiä", "Frågor"),
    "Examples": ("Esimerkkejä", "Exempel"),
    "None in this period.": ("Ei yhtään tällä jaksolla.", "Inga under perioden."),
    "This week and the four weeks before it (Monday to Sunday, Finnish time).": (
        "Tämä viikko ja neljä sitä edeltävää viikkoa (maanantaista sunnuntaihin, Suomen aikaa).",
        "Den här veckan och de fyra veckorna före den (måndag till söndag, finsk tid).",
    ),
    "Filter the figures": ("Rajaa lukuja", "Avgränsa siffrorna"),
    "Waits are counted in opening hours only (working days, public holidays excluded), from the ticket's arrival "
    "to its first claim; the 90th percentile is the wait that nine claims in ten did not exceed.": (
        "Odotusajat lasketaan vain aukioloaikana (arkipäivät, arkipyhät pois lukien) tiketin saapumisesta siihen, kun "
        "se otetaan ensimmäisen kerran käsittelyyn; 90. persentiili on odotusaika, jota yhdeksän käsittelyyn ottoa "
        "kymmenestä ei ylittänyt.",
        "Väntetider räknas bara under öppettiderna (vardagar, helgdagar undantagna) från att ärendet kom in tills det "
        "togs första gången; 90:e percentilen är den väntetid som nio av tio tagna ärenden inte överskred.",
    ),
    "Past the target: claimed later than the queue's response-time target, in opening hours.": (
        "Tavoiteaika ylittynyt: otettu käsittelyyn myöhemmin kuin jonon vastausaikatavoite, aukioloaikana laskettuna.",
        "Målet överskridet: togs senare än köns svarstidsmål, räknat i öppettider.",
    ),
    "Hand-off rate: conversations with the assistant in which the customer was handed to an adviser. A "
    "conversation has no city or queue before it is handed off, so with a city or queue filter it is not shown.": (
        "Siirtoaste: avustajan keskustelut, joissa asiakas siirrettiin neuvojalle. Keskustelulla ei ole kaupunkia "
        "eikä jonoa ennen siirtoa, joten kaupunki- tai jonorajauksella sitä ei näytetä.",
        "Överlämningsgrad: samtal med assistenten där kunden lämnades över till en rådgivare. Ett samtal har ingen "
        "stad eller kö innan det lämnas över, så med en stads- eller köavgränsning visas den inte.",
    ),
    "Customer satisfaction: the answers given that week to the question after a closed ticket; few or no answers "
    "is normal at first.": (
        "Asiakastyytyväisyys: viikon aikana annetut vastaukset suljetun tiketin jälkeiseen kysymykseen; alussa "
        "vastauksia on vähän tai ei lainkaan, mikä on tavallista.",
        "Kundnöjdhet: svaren under veckan på frågan efter ett stängt ärende; i början är det normalt med få eller "
        "inga svar.",
    ),
    "Only the newest {n} claims were read for the waits.": (
        "Odotusaikoihin luettiin vain uusimmat {n} käsittelyyn ottoa.",
        "Endast de {n} nyaste tagna ärendena lästes för väntetiderna.",
    ),
    "Download the figures (CSV)": ("Lataa luvut (CSV)", "Ladda ner siffrorna (CSV)"),
    "wk {n}": ("vk {n}", "v. {n}"),
    "Week": ("Viikko", "Vecka"),
    "Contacts per week": ("Yhteydenotot viikoittain", "Kontakter per vecka"),
    "Conversations with the assistant": ("Keskustelut avustajan kanssa", "Samtal med assistenten"),
    "Hand-off rate (conversations handed to an adviser)": (
        "Siirtoaste (neuvojalle siirretyt keskustelut)",
        "Överlämningsgrad (samtal som lämnats över till en rådgivare)",
    ),
    "Hand-off rate": ("Siirtoaste", "Överlämningsgrad"),
    "Handed off": ("Siirretty neuvojalle", "Överlämnade"),
    "Wait until claimed, minutes of opening hours": (
        "Odotus käsittelyyn ottoon, minuutteja aukioloajasta",
        "Väntan tills ärendet togs, minuter av öppettiden",
    ),
    "Median": ("Mediaani", "Median"),
    "90th percentile": ("90. persentiili", "90:e percentilen"),
    "Claims": ("Käsittelyyn otot", "Tagna ärenden"),
    "Claims past the response-time target": (
        "Käsittelyyn otot, joissa vastausaikatavoite ylittyi",
        "Tagna ärenden där svarstidsmålet överskreds",
    ),
    "Past the target": ("Tavoiteaika ylittyi", "Målet överskridet"),
    "Customer satisfaction (average, 1–5)": ("Asiakastyytyväisyys (keskiarvo, 1–5)", "Kundnöjdhet (medelvärde, 1–5)"),
    "Average": ("Keskiarvo", "Medelvärde"),
    "Answers": ("Vastauksia", "Svar"),
    "The numbers as a table": ("Luvut taulukkona", "Siffrorna som tabell"),
}
