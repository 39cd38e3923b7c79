/// How Spanish given names are shortened in writing and in speech, for linking (docs/linking.md,
/// "Abbreviations and nicknames"). Names are in `NormalizedName`'s folded form (lower case, no
/// accents, letters only, particles joined: "María de Jesús" → `maria`, `dejesus`).
///
/// - **Abbreviations** are how a name is written short on a form: "Ma." and "Mª" for María,
///   "Gpe." for Guadalupe, "Fco." for Francisco (the Real Academia Española's list of
///   abbreviations gives "M.ª" and "Fco."; the others are the usual ones on Mexican forms). An
///   abbreviation stands for one name.
/// - **Nicknames** (hipocorísticos) are what people are called: Chuy for Jesús, Pepe for José,
///   Paco and Pancho for Francisco. Some stand for several names (Beto: Alberto, Roberto,
///   Humberto); Chema stands for two given names at once (José María). Collected from the common
///   Mexican forms (the list in issue 19, completed from Spanish Wikipedia's "Hipocorístico").
public enum GivenNameVariants {
    /// Written abbreviation → the name it abbreviates.
    public static let abbreviations: [String: String] = [
        "ma": "maria", "mª": "maria",
        "gpe": "guadalupe", "guad": "guadalupe",
        "fco": "francisco", "fca": "francisca",
        "fdo": "fernando",
    ]

    /// Nickname → the names it may stand for ("jose maria": two given names).
    public static let nicknames: [String: [String]] = [
        "chuy": ["jesus"], "chucho": ["jesus"], "chuyita": ["jesus"],
        "pepe": ["jose"], "pepa": ["josefa"], "pepita": ["josefa"],
        "chema": ["jose maria"],
        "paco": ["francisco"], "pancho": ["francisco"], "curro": ["francisco"], "pancha": ["francisca"], "paquita": ["francisca"],
        "nacho": ["ignacio"], "nacha": ["ignacia"],
        "memo": ["guillermo"],
        "tono": ["antonio"], "tona": ["antonia"],
        "beto": ["alberto", "roberto", "humberto", "heriberto"],
        "lalo": ["eduardo"],
        "lupe": ["guadalupe"], "lupita": ["guadalupe"],
        "concha": ["concepcion"], "conchita": ["concepcion"], "conchis": ["concepcion"],
        "cuca": ["refugio"], "cuquita": ["refugio"],
        "chayo": ["rosario"], "charo": ["rosario"],
        "lola": ["dolores"], "lolita": ["dolores"],
        "quique": ["enrique"], "kike": ["enrique"],
        "lencho": ["lorenzo"],
        "rafa": ["rafael"],
        "chabela": ["isabel"], "chavela": ["isabel"],
        "chela": ["graciela"],
        "chelo": ["consuelo"],
        "tere": ["teresa"],
        "paty": ["patricia"], "pati": ["patricia"],
        "lety": ["leticia"], "leti": ["leticia"],
        "gaby": ["gabriela"], "gabi": ["gabriela"],
        "poncho": ["alfonso"],
        "nando": ["fernando"],
        "goyo": ["gregorio"],
        "licha": ["alicia"],
        "meche": ["mercedes"],
        "chente": ["vicente"],
        "chava": ["salvador"],
        "fito": ["adolfo", "rodolfo"],
        "toncho": ["antonio"],
        "lulu": ["lourdes"],
        "mague": ["margarita"],
        "juanjo": ["juan jose"],
        "pili": ["pilar"],
        "santi": ["santiago"],
        "checo": ["sergio"],
        "manolo": ["manuel"],
        "coco": ["socorro"],
        "ale": ["alejandra", "alejandro"], "alex": ["alejandro"],
    ]

    /// The name a written abbreviation stands for, or the name itself.
    public static func expanded(_ name: String) -> String { abbreviations[name] ?? name }

    /// The names a given name may be the nickname of (empty when it is none).
    public static func nicknameOf(_ name: String) -> [String] { nicknames[name] ?? [] }

    /// Whether one record's first given name is a nickname of the other's (or of its first two
    /// given names: Chema, José María), or both are nicknames of one name.
    public static func areNicknames(_ a: [String], _ b: [String]) -> Bool {
        guard let x = a.first, let y = b.first else { return false }
        func stands(_ nickname: String, for given: [String]) -> Bool {
            nicknameOf(nickname).contains { $0 == given[0] || $0 == given.prefix(2).joined(separator: " ") }
        }
        if stands(x, for: b) || stands(y, for: a) { return true }
        let nx = nicknameOf(x)
        return !nx.isEmpty && !Set(nx).isDisjoint(with: nicknameOf(y))
    }

    /// The names a first given name may stand for, for blocking: its expansion and the first
    /// name of each name it is a nickname of.
    public static func blockingNames(_ name: String) -> Set<String> {
        var names: Set<String> = [expanded(name)]
        for full in nicknameOf(name) { names.insert(String(full.split(separator: " ")[0])) }
        names.remove(name)
        return names
    }
}
