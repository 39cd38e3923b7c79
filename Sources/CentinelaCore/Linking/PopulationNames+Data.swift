// Generated from docs/data/population-names.md's sources; see there for provenance and licences.
// Each entry is "name count", names folded as `NormalizedName` folds them.

extension PopulationNames {
    /// Hispanic first names: Tzioumis (2018), "Demographic aspects of first names", Harvard
    /// Dataverse, doi:10.7910/DVN/TYJKEZ, CC0 1.0 — mortgage applicants' first names with the share
    /// who are Hispanic; here obs × pcthispanic / 100 for names at least 20 % Hispanic and held by at
    /// least ten Hispanic applicants, out of 183153 Hispanic applicants in all.
    static let givenCounts = """
        jose 7763  maria 6620  juan 3754  carlos 2391  luis 2358  jorge 1760  jesus 1742  francisco 1656
        miguel 1627  manuel 1526  ana 1213  victor 1179  antonio 1107  mario 1067  pedro 1058  rosa 1052
        hector 1029  roberto 1005  rafael 987  ricardo 968  martha 949  javier 946  raul 906  carmen 854
        oscar 850  sergio 797  ramon 791  ruben 781  fernando 773  jaime 770  gloria 741  alejandro 740
        salvador 728  eduardo 718  armando 675  julio 668  guadalupe 639  arturo 623  angel 614  veronica 602
        enrique 588  cesar 571  yolanda 571  alfredo 554  alberto 548  gerardo 520  gabriel 518  norma 506
        guillermo 493  claudia 483  leticia 450  blanca 446  ernesto 446  irma 443  margarita 436  gustavo 435
        luz 428  edgar 426  marco 425  alicia 419  silvia 410  andres 404  sonia 402  rodolfo 394
        alfonso 377  felipe 374  pablo 373  olga 360  rene 359  alma 343  sylvia 341  juana 330
        ramiro 330  angelica 323  adrian 314  hugo 306  adriana 305  ignacio 299  rogelio 293  omar 292
        humberto 291  felix 282  lorena 276  marcos 272  gilberto 271  abel 270  bertha 270  ismael 264
        cecilia 263  isabel 261  nelson 261  gilbert 256  lourdes 238  alvaro 237  rigoberto 236  dolores 230
        santiago 230  esther 224  raquel 221  rolando 220  graciela 219  agustin 215  mauricio 213  josefina 212
        beatriz 211  maribel 210  miriam 207  orlando 207  tomas 207  mayra 206  rodrigo 206  israel 205
        saul 203  hilda 202  ivan 201  cristina 199  efrain 199  susana 198  elena 193  gonzalo 193
        santos 193  dora 187  eva 187  joaquin 186  rosario 186  gabriela 184  mercedes 179  esperanza 176
        vicente 176  reynaldo 174  leonardo 168  moises 168  olivia 167  diego 165  nicolas 165  delia 164
        francisca 164  elsa 163  araceli 162  alejandra 161  marta 161  fidel 160  esteban 159  julian 158
        carolina 157  adolfo 156  gladys 152  maricela 151  elias 150  marisol 149  lorenzo 148  lucia 148
        rocio 147  emilio 145  celia 144  marina 142  juanita 141  isidro 140  consuelo 138  lydia 138
        maritza 135  adan 134  rudy 134  socorro 134  octavio 133  emma 130  heriberto 130  antonia 129
        estela 129  leonel 129  ofelia 128  ramona 128  abraham 127  german 126  liliana 126  elvia 123
        noe 123  wilfredo 123  gregorio 122  elvira 120  federico 117  lidia 116  nora 115  lilia 114
        karina 113  domingo 112  efren 112  esmeralda 111  isaac 110  leopoldo 110  benito 109  yesenia 109
        guillermina 108  magdalena 108  cruz 105  aurora 104  elisa 103  rosalinda 102  iris 101  angelina 100
        yvette 100  concepcion 99  griselda 99  aida 98  daisy 98  amelia 97  raymundo 97  bernardo 96
        erick 96  elva 95  marisela 95  lupe 94  nestor 94  alba 93  sofia 92  catalina 91
        aurelio 90  eliseo 90  imelda 90  josue 90  arnulfo 88  luisa 88  clara 87  reina 85
        evangelina 83  marcelo 83  roman 83  rosalba 83  trinidad 81  reyna 80  mirna 79  genaro 78
        vilma 78  adela 77  freddy 77  marcela 77  osvaldo 77  ariel 76  eugenio 76  horacio 76
        refugio 76  amparo 75  fabian 75  eloy 74  georgina 74  mariano 74  rosendo 74  wilson 74
        emmanuel 73  flor 73  marcelino 73  margarito 72  minerva 72  claudio 69  ezequiel 69  fabiola 69
        milagros 69  noemi 69  aldo 67  elmer 67  lazaro 67  lucio 67  elia 66  martina 66
        adalberto 65  amalia 64  manuela 64  mauro 64  edgardo 63  hortencia 62  isaias 62  jairo 62
        norberto 62  ada 61  dulce 61  nelly 61  abelardo 60  emilia 60  hernan 60  dario 59
        fermin 59  yadira 59  mariana 58  pete 58  roxana 58  xavier 58  leonor 57  zoila 57
        elba 56  everardo 56  valentin 56  faustino 55  hilario 55  petra 55  rebeca 55  tania 55
        arnoldo 52  fausto 52  lucila 52  matilde 52  reyes 52  luciano 51  cristian 50  cristobal 50
        estella 50  florentino 50  fredy 50  natalia 50  nilda 50  pascual 50  elida 49  eusebio 49
        anibal 48  celso 48  filiberto 48  ines 48  rosie 48  sebastian 48  lilian 47  pilar 47
        rafaela 47  reinaldo 47  soledad 47  uriel 47  aracely 46  baltazar 46  eleazar 46  mireya 46
        oralia 46  rosalina 46  teodoro 46  evelia 45  leobardo 45  marlon 45  amado 44  flavio 44
        flora 44  ileana 44  perla 44  porfirio 44  celina 43  damaris 43  hipolito 43  alonso 42
        clemente 42  ernestina 42  herlinda 42  justo 42  modesto 42  anabel 41  artemio 41  corina 41
        edmundo 41  giovanni 41  oswaldo 41  patricio 41  rosalia 41  salomon 41  aura 40  dagoberto 40
        haydee 40  lina 40  rosalva 40  violeta 40  adelina 39  altagracia 39  augusto 39  bianca 39
        ligia 39  paola 39  romeo 39  candelario 38  florencio 38  ivette 38  julieta 38  juvenal 38
        natividad 38  viviana 38  bonifacio 37  eddy 37  elvis 37  erasmo 37  genoveva 37  micaela 37
        misael 37  paulo 37  rosaura 37  segundo 37  cipriano 36  gabino 36  iliana 36  mariela 36
        arcelia 35  danilo 35  elda 35  eloisa 35  emiliano 35  herminia 35  louie 35  otto 35
        ulises 35  angelita 34  azucena 34  berta 34  demetrio 34  geronimo 34  gricelda 34  isela 34
        lauro 34  maximo 34  serafin 34  ivonne 33  lino 33  maximiliano 33  migdalia 33  ubaldo 33
        anselmo 32  armida 32  delfina 32  ernie 32  gilda 32  hermelinda 32  juventino 32  lissette 32
        nubia 32  aurelia 31  carmelo 31  delfino 31  gildardo 31  zenaida 31  blas 30  fatima 30
        feliciano 30  jovita 30  mabel 30  rosalio 30  alina 29  fanny 29  homero 29  leandro 29
        lisette 29  lizette 29  renato 29  sabino 29  xiomara 29  amador 28  dalia 28  epifanio 28
        ericka 28  felicitas 28  gisela 28  josefa 28  magaly 28  magda 28  wilmer 28  belen 27
        cecilio 27  enedina 27  enriqueta 27  fidencio 27  gil 27  josie 27  maximino 27  bernardino 26
        hiram 26  julissa 26  virgilio 26  arnaldo 25  elvin 25  idalia 25  noelia 25  xochitl 25
        benigno 24  candido 24  gaspar 24  jacinto 24  vidal 24  adelaida 23  augustine 23  candida 23
        cirilo 23  eulalia 23  gregoria 23  joao 23  lizbeth 23  myriam 23  rey 23  bernabe 22
        camilo 22  digna 22  kenia 22  silvio 22  yanet 22  yasmin 22  carina 21  elma 21
        nydia 21  san 21  aurea 20  conrado 20  dania 20  ester 20  lorenza 20  teofilo 20
        constantino 19  herminio 19  melchor 19  paulina 19  paulino 19  ronaldo 19  alva 18  celestino 18
        cornelio 18  crispin 18  fabio 18  narciso 18  roque 18  rosita 18  valeria 18  avelino 17
        caridad 17  dionisio 17  edison 17  eliana 17  elpidio 17  estrella 17  giselle 17  liz 17
        santa 17  tito 17  abner 16  augustin 16  luiz 16  mercy 16  octaviano 16  rony 16
        rosio 16  ariana 15  ciro 15  edilberto 15  joselito 15  lisandro 15  loreto 15  obdulia 15
        rosana 15  percy 14  romulo 14  adrianna 13  arsenio 13  brigida 13  caesar 13  elio 13
        fe 13  teodora 13  antonino 12  fernanda 12  jaqueline 12  justina 12  delma 11  evelina 11
        flavia 11  issac 11  junior 11  jacinta 10  jannette 10
        """
    static let givenTotal = 183_153.0

    /// Spanish surnames: U.S. Census Bureau, "Frequently Occurring Surnames from the 2010 Census"
    /// (public domain), its 1,000 most frequent surnames; here count × pcthispanic / 100 for
    /// surnames at least half Hispanic, out of a Hispanic population of 50,477,594.
    static let surnameCounts = """
        garcia 1073180  rodriguez 1026710  hernandez 989969  martinez 984994  lopez 812607  gonzalez 798721  perez 633589  sanchez 569798
        ramirez 526653  torres 403488  flores 398991  rivera 356148  gomez 338597  diaz 321772  cruz 293696  morales 290670
        reyes 290457  gutierrez 273660  ortiz 267132  chavez 233235  ramos 228660  ruiz 221296  mendoza 218421  alvarez 216317
        jimenez 213423  castillo 207977  vasquez 198248  romero 184623  moreno 181624  gonzales 180526  herrera 179279  aguilar 174053
        medina 171834  vargas 161527  castro 160970  guzman 156637  mendez 151739  fernandez 151148  munoz 148150  salazar 139952
        garza 135965  soto 134989  vazquez 132443  alvarado 126052  contreras 123187  delgado 122971  pena 120968  rios 119628
        guerrero 118730  sandoval 118542  ortega 118488  estrada 118369  nunez 116225  maldonado 113882  dominguez 111060  valdez 110821
        vega 108133  santiago 107620  espinoza 106445  rojas 102414  silva 99146  mejia 98344  marquez 97532  juarez 97524
        padilla 94997  luna 92791  acosta 92538  figueroa 91398  cortez 91169  avila 88517  navarro 87970  molina 87591
        ayala 87146  campos 87000  santos 85358  carrillo 85051  cervantes 78308  duran 77877  lara 76654  cabrera 76112
        solis 75928  miranda 75811  robles 75680  fuentes 75530  salinas 75378  velasquez 74112  ochoa 74027  aguirre 73903
        leon 73590  cardenas 72760  deleon 72606  rivas 71381  calderon 71342  rosales 70080  serrano 68655  castaneda 66672
        trujillo 65664  montoya 63539  pacheco 63224  orozco 63110  ibarra 62971  valencia 62461  gallegos 62144  velazquez 61155
        camacho 60805  guerra 60674  colon 60436  escobar 59534  suarez 59491  salas 59065  macias 58580  villarreal 56968
        barrera 56838  franco 56654  zamora 56303  delacruz 55697  santana 55565  roman 55177  pineda 55145  trevino 54529
        rangel 53532  arias 53494  lozano 53001  zuniga 52921  mercado 52589  melendez 52339  mora 52057  valenzuela 51851
        andrade 50852  meza 50851  villanueva 50602  galvan 49656  tapia 49250  zavala 49173  sosa 48948  velez 48487
        cisneros 48237  benitez 48139  acevedo 48034  bonilla 47990  arroyo 47228  villa 46870  rubio 46745  bautista 46283
        arellano 46156  ponce 45531  huerta 45305  beltran 45221  rocha 44798  villegas 44653  cantu 44651  montes 44570
        barajas 43555  mata 43496  murillo 42752  rosas 42727  cortes 42716  guevara 42691  salgado 42677  rosario 41814
        palacios 41192  davila 40815  esparza 40078  cuevas 39436  cordova 39193  trejo 39023  quintero 38726  marin 38012
        bravo 37780  corona 37514  medrano 37435  nava 37195  magana 37111  dejesus 36957  portillo 35905  villalobos 35806
        enriquez 35704  esquivel 35571  avalos 35382  bernal 35144  lugo 34571  duarte 34382  cano 34106  parra 33930
        espinosa 33892  galindo 33751  delarosa 33703  quintana 33534  alfaro 33317  jaramillo 33182  lucero 32952  correa 32646
        reyna 32619  sierra 32393  nieves 32202  saldana 32061  quinones 31545  peralta 31474  leal 30528  ventura 29475
        felix 26625
        """
    static let surnameTotal = 50_477_594.0
}
