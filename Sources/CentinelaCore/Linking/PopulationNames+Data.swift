// Generated from the sources in docs/linking.md ("A young register"); see there for provenance and licences.
// Each entry is "name count", names folded as `NormalizedName` folds them.

extension PopulationNames {
    /// Hispanic first names: Tzioumis (2018), "Demographic aspects of first names", Harvard
    /// Dataverse, doi:10.7910/DVN/TYJKEZ, CC0 1.0 — mortgage applicants' first names with the share
    /// who are Hispanic; here obs × pcthispanic / 100 for every name held by at least ten Hispanic
    /// applicants (1190 names, 97 % of them), out of 183153 Hispanic applicants in all. Names common
    /// among others too (Patricia, Laura) are kept: it is the Hispanic applicants' share that counts.
    static let givenCounts = """
        allotherfirstnames 17614  jose 7763  maria 6620  juan 3754  carlos 2391  luis 2358  jorge 1760  jesus 1742
        francisco 1656  miguel 1627  david 1557  manuel 1526  daniel 1292  ana 1213  victor 1179  antonio 1107
        mario 1067  pedro 1058  rosa 1052  robert 1032  hector 1029  michael 1008  roberto 1005  rafael 987
        ricardo 968  martha 949  javier 946  raul 906  john 894  carmen 854  oscar 850  patricia 834
        richard 833  sergio 797  ramon 791  ruben 781  fernando 773  jaime 770  elizabeth 760  martin 750
        sandra 744  gloria 741  alejandro 740  salvador 728  eduardo 718  armando 675  julio 668  joseph 651
        guadalupe 639  arturo 623  angel 614  veronica 602  mary 592  enrique 588  cesar 571  yolanda 571
        teresa 562  alfredo 554  alberto 548  laura 532  anthony 527  gerardo 520  gabriel 518  norma 506
        guillermo 493  claudia 483  monica 483  frank 463  james 457  leticia 450  blanca 446  ernesto 446
        william 446  irma 443  george 436  margarita 436  gustavo 435  luz 428  edgar 426  marco 425
        alicia 419  edward 419  nancy 414  silvia 410  andres 404  diana 404  jessica 402  sonia 402
        rodolfo 394  samuel 383  alfonso 377  jennifer 376  felipe 374  pablo 373  christopher 371  paul 371
        olga 360  rene 359  cynthia 344  alma 343  sylvia 341  linda 340  joel 337  joe 335
        juana 330  ramiro 330  angelica 323  eric 322  adrian 314  angela 312  lisa 311  hugo 306
        adriana 305  mark 304  michelle 302  ignacio 299  rogelio 293  virginia 293  omar 292  benjamin 291
        edwin 291  humberto 291  raymond 285  felix 282  henry 279  lorena 276  marcos 272  gilberto 271
        abel 270  bertha 270  thomas 267  christina 265  ismael 264  melissa 264  cecilia 263  isabel 261
        nelson 261  alex 260  gilbert 256  steven 254  rebecca 252  brenda 250  anna 249  jesse 241
        lourdes 238  alvaro 237  rigoberto 236  victoria 232  albert 231  dolores 230  irene 230  santiago 230
        esther 224  raquel 221  rolando 220  graciela 219  susan 219  agustin 215  mauricio 213  josefina 212
        sara 212  beatriz 211  maribel 210  barbara 209  jacqueline 209  miriam 207  orlando 207  tomas 207
        andrew 206  mayra 206  rodrigo 206  israel 205  louis 204  saul 203  hilda 202  ivan 201
        charles 200  cristina 199  efrain 199  susana 198  jason 197  julia 197  alexander 195  peter 195
        elena 193  gonzalo 193  santos 193  ronald 192  evelyn 189  dora 187  eva 187  joaquin 186
        rosario 186  gabriela 184  andrea 180  arthur 179  mercedes 179  esperanza 176  vicente 176  erika 175
        karen 174  reynaldo 174  leonardo 168  moises 168  vanessa 168  olivia 167  ruth 166  diego 165
        nicolas 165  delia 164  francisca 164  elsa 163  araceli 162  alejandra 161  marta 161  rita 161
        fidel 160  christian 159  deborah 159  esteban 159  jonathan 159  christine 158  julian 158  carolina 157
        adolfo 156  denise 156  matthew 156  gladys 152  maricela 151  elias 150  judith 150  theresa 150
        marisol 149  lorenzo 148  lucia 148  rocio 147  stephanie 146  emilio 145  celia 144  johnny 142
        marina 142  walter 142  frances 141  juanita 141  isidro 140  steve 140  amanda 138  consuelo 138
        lydia 138  margaret 136  rachel 136  maritza 135  adan 134  rudy 134  socorro 134  anita 133
        kenneth 133  octavio 133  ralph 133  erica 132  yvonne 132  brian 131  carol 131  rose 131
        emma 130  heriberto 130  janet 130  antonia 129  ernest 129  estela 129  leonel 129  julie 128
        ofelia 128  ramona 128  abraham 127  jeffrey 127  alfred 126  german 126  liliana 126  karla 125
        elvia 123  noe 123  wilfredo 123  gregorio 122  larry 122  sarah 122  diane 120  elvira 120
        kevin 120  debra 118  nicholas 118  federico 117  tony 117  dennis 116  lidia 116  paula 116
        vincent 116  nora 115  lilia 114  danny 113  karina 113  domingo 112  efren 112  gregory 112
        esmeralda 111  jimmy 111  wendy 111  isaac 110  leopoldo 110  noel 110  roger 110  benito 109
        joshua 109  marlene 109  yesenia 109  guillermina 108  magdalena 108  marie 107  stephen 106  aaron 105
        cruz 105  kimberly 105  aurora 104  edith 104  jerry 104  annette 103  elisa 103  patrick 103
        nicole 102  rosalinda 102  valerie 102  donna 101  iris 101  lawrence 101  angelina 100  josephine 100
        timothy 100  yvette 100  concepcion 99  griselda 99  pamela 99  aida 98  daisy 98  amelia 97
        amy 97  gary 97  raymundo 97  bernardo 96  erick 96  elva 95  marisela 95  adam 94
        alice 94  lupe 94  nestor 94  alba 93  sofia 92  catalina 91  catherine 91  helen 91
        lucy 91  aurelio 90  cindy 90  eliseo 90  imelda 90  josue 90  phillip 90  rosemary 90
        arnulfo 88  katherine 88  luisa 88  clara 87  donald 87  eddie 87  regina 87  betty 85
        marvin 85  reina 85  doris 84  erik 84  kathleen 84  evangelina 83  marcelo 83  roman 83
        rosalba 83  carla 82  connie 82  lillian 82  gina 81  trinidad 81  reyna 80  mirna 79
        genaro 78  vilma 78  adela 77  freddy 77  marcela 77  osvaldo 77  vivian 77  ariel 76
        eugenio 76  horacio 76  refugio 76  amparo 75  fabian 75  grace 75  milton 75  eloy 74
        georgina 74  jenny 74  mariano 74  marilyn 74  rosendo 74  wilson 74  crystal 73  emmanuel 73
        flor 73  marcelino 73  roy 73  alan 72  margarito 72  minerva 72  priscilla 72  leslie 71
        lorraine 70  philip 70  claudio 69  ezequiel 69  fabiola 69  fred 69  milagros 69  noemi 69
        jeanette 68  ray 68  aldo 67  douglas 67  elmer 67  lazaro 67  lucio 67  elia 66
        martina 66  natalie 66  adalberto 65  franklin 65  mike 65  alexis 64  amalia 64  carolyn 64
        manuela 64  mauro 64  ryan 64  edgardo 63  scott 63  hortencia 62  isaias 62  jairo 62
        judy 62  norberto 62  shirley 62  ada 61  dulce 61  kathy 61  nelly 61  tina 61
        abelardo 60  emilia 60  eugene 60  hernan 60  jamie 60  leonard 60  sharon 60  dario 59
        fermin 59  jacob 59  myrna 59  yadira 59  mariana 58  pete 58  roxana 58  suzanne 58
        xavier 58  bernadette 57  debbie 57  justin 57  leonor 57  zoila 57  elba 56  everardo 56
        joanne 56  melinda 56  michele 56  valentin 56  wanda 56  belinda 55  chris 55  edna 55
        faustino 55  geraldine 55  hilario 55  jean 55  petra 55  randy 55  rebeca 55  simon 55
        tania 55  thelma 55  alexandra 54  gerald 54  joann 54  leo 54  joanna 53  marcia 53
        melvin 53  arnoldo 52  beatrice 52  fausto 52  harold 52  heather 52  jeremy 52  lucila 52
        matilde 52  reyes 52  stella 52  abigail 51  angelo 51  ingrid 51  kelly 51  luciano 51
        bryan 50  cristian 50  cristobal 50  estella 50  florentino 50  fredy 50  melanie 50  natalia 50
        nilda 50  pascual 50  ruby 50  dina 49  elaine 49  elida 49  eusebio 49  anibal 48
        celso 48  darlene 48  filiberto 48  francis 48  glenda 48  ines 48  rosie 48  sebastian 48
        ann 47  emily 47  lilian 47  pilar 47  rafaela 47  reinaldo 47  soledad 47  uriel 47
        aracely 46  arnold 46  baltazar 46  beverly 46  eleazar 46  kathryn 46  lori 46  marc 46
        mildred 46  mireya 46  oralia 46  rosalina 46  sally 46  tammy 46  teodoro 46  april 45
        brandon 45  evelia 45  leobardo 45  marlon 45  renee 45  roberta 45  sheila 45  amado 44
        dorothy 44  flavio 44  flora 44  ileana 44  janice 44  perla 44  porfirio 44  roland 44
        rosemarie 44  celina 43  damaris 43  hipolito 43  jessie 43  marisa 43  rudolph 43  alonso 42
        clemente 42  eileen 42  ernestina 42  eugenia 42  herlinda 42  justo 42  max 42  modesto 42
        ronnie 42  anabel 41  arlene 41  artemio 41  byron 41  corina 41  edmundo 41  giovanni 41
        herman 41  oswaldo 41  patricio 41  rosalia 41  salomon 41  tracy 41  aura 40  dagoberto 40
        damian 40  danielle 40  haydee 40  jeannette 40  lina 40  rosalva 40  sandy 40  violeta 40
        adelina 39  altagracia 39  angie 39  augusto 39  bianca 39  cheryl 39  ligia 39  paola 39
        romeo 39  tanya 39  teresita 39  ashley 38  billy 38  candelario 38  cathy 38  desiree 38
        florencio 38  ivette 38  julieta 38  juvenal 38  monique 38  natividad 38  nick 38  rick 38
        rosalie 38  viviana 38  bonifacio 37  caroline 37  eddy 37  elvis 37  erasmo 37  genoveva 37
        jay 37  micaela 37  misael 37  paulo 37  rosaura 37  segundo 37  cipriano 36  gabino 36
        ida 36  iliana 36  joan 36  mariela 36  naomi 36  samantha 36  shannon 36  andy 35
        arcelia 35  danilo 35  elda 35  eloisa 35  emiliano 35  herminia 35  keith 35  louie 35
        otto 35  rodney 35  terry 35  ulises 35  angelita 34  azucena 34  berta 34  carl 34
        daniela 34  dawn 34  demetrio 34  felicia 34  geronimo 34  gricelda 34  harry 34  isela 34
        jack 34  jane 34  laurie 34  lauro 34  lucas 34  lynn 34  marcus 34  maximo 34
        sean 34  serafin 34  stacey 34  andre 33  bobby 33  bruce 33  ivonne 33  jim 33
        johanna 33  joyce 33  lino 33  maximiliano 33  migdalia 33  nellie 33  robin 33  sophia 33
        ubaldo 33  anselmo 32  armida 32  delfina 32  erin 32  ernie 32  gilda 32  hermelinda 32
        juventino 32  lissette 32  loretta 32  lucille 32  nubia 32  shawn 32  sonya 32  anne 31
        aurelia 31  carmelo 31  deanna 31  delfino 31  gildardo 31  janette 31  zenaida 31  antoinette 30
        blas 30  fatima 30  feliciano 30  herbert 30  jovita 30  juliana 30  mabel 30  marissa 30
        peggy 30  ricky 30  rosalio 30  sabrina 30  tamara 30  alina 29  amber 29  fanny 29
        homero 29  jennie 29  jon 29  leandro 29  lisette 29  lizette 29  renato 29  sabino 29
        xiomara 29  amador 28  bruno 28  dalia 28  dominic 28  epifanio 28  ericka 28  felicitas 28
        gisela 28  josefa 28  magaly 28  magda 28  wilmer 28  belen 27  carmela 27  cecilio 27
        enedina 27  enriqueta 27  fidencio 27  freddie 27  gil 27  josie 27  maximino 27  toni 27
        bernardino 26  charlie 26  hiram 26  janie 26  julissa 26  pauline 26  tiffany 26  viola 26
        virgilio 26  arnaldo 25  carrie 25  eleanor 25  elvin 25  eunice 25  genevieve 25  idalia 25
        kim 25  kristina 25  leroy 25  nathan 25  nina 25  noelia 25  roxanne 25  stacy 25
        tommy 25  xochitl 25  benigno 24  candido 24  dan 24  dianna 24  elsie 24  emanuel 24
        gaspar 24  jacinto 24  joey 24  lee 24  marcella 24  norman 24  oliver 24  phyllis 24
        rachael 24  russell 24  vidal 24  wayne 24  adelaida 23  allan 23  alvin 23  annie 23
        augustine 23  bonnie 23  candida 23  celeste 23  cirilo 23  dana 23  eulalia 23  gregoria 23
        joao 23  lizbeth 23  marjorie 23  myriam 23  nadia 23  rey 23  stanley 23  theodore 23
        todd 23  bernabe 22  bernard 22  camilo 22  digna 22  edmund 22  eli 22  frederick 22
        jill 22  kenia 22  lauren 22  leon 22  sam 22  silvio 22  terri 22  yanet 22
        yasmin 22  ben 21  carina 21  elma 21  erwin 21  greg 21  mara 21  maura 21
        maureen 21  melba 21  myra 21  nydia 21  san 21  vicky 21  allen 20  aurea 20
        betsy 20  conrado 20  craig 20  dania 20  ellen 20  ester 20  gerard 20  glenn 20
        kristen 20  lily 20  liza 20  lorenza 20  louise 20  mitchell 20  randall 20  reuben 20
        sherry 20  susie 20  teofilo 20  vladimir 20  willie 20  benny 19  bernice 19  clarissa 19
        constantino 19  dante 19  frankie 19  heidi 19  herminio 19  inez 19  irving 19  jerome 19
        jess 19  maurice 19  melchor 19  melody 19  paulina 19  paulino 19  ronaldo 19  alva 18
        audrey 18  benita 18  brandy 18  cassandra 18  celestino 18  cornelio 18  crispin 18  derrick 18
        evangeline 18  fabio 18  ferdinand 18  georgia 18  jeannie 18  joy 18  kristine 18  lionel 18
        madeline 18  michel 18  narciso 18  rhonda 18  roque 18  rosita 18  susanna 18  valeria 18
        aileen 17  aimee 17  avelino 17  brent 17  caridad 17  charlene 17  charlotte 17  dionisio 17
        doreen 17  edison 17  eliana 17  elpidio 17  estrella 17  giselle 17  hope 17  jeff 17
        liz 17  lynda 17  margie 17  megan 17  mona 17  neil 17  raphael 17  renata 17
        santa 17  tara 17  tito 17  velma 17  abner 16  alain 16  augustin 16  becky 16
        bill 16  carlo 16  darwin 16  dianne 16  franco 16  jackie 16  jasmine 16  lester 16
        luiz 16  mercy 16  octaviano 16  rony 16  rosio 16  troy 16  valentina 16  vicki 16
        alonzo 15  alyssa 15  ariana 15  barry 15  ciro 15  colleen 15  conrad 15  corazon 15
        dale 15  denis 15  derek 15  edilberto 15  gail 15  gus 15  joselito 15  julius 15
        kristin 15  lance 15  lisandro 15  loreto 15  marsha 15  natasha 15  obdulia 15  rosana 15
        art 14  brandi 14  candice 14  chad 14  darren 14  dean 14  helena 14  holly 14
        jacquelyn 14  jared 14  leah 14  pearl 14  percy 14  randolph 14  rina 14  romulo 14
        ron 14  tatiana 14  travis 14  wilma 14  adrianna 13  adrienne 13  arsenio 13  beth 13
        boris 13  brigida 13  caesar 13  christy 13  constance 13  darrell 13  delores 13  elio 13
        erlinda 13  ernestine 13  fe 13  harvey 13  howard 13  karin 13  katrina 13  maggie 13
        marion 13  moses 13  nikki 13  rosanna 13  roxanna 13  sabina 13  teodora 13  vera 13
        vickie 13  antonino 12  camille 12  cecelia 12  christie 12  debora 12  elisabeth 12  eloise 12
        ethel 12  fernanda 12  francine 12  henrietta 12  jaqueline 12  jeffery 12  jocelyn 12  june 12
        justina 12  kelvin 12  kristi 12  lena 12  liana 12  lynette 12  marla 12  rachelle 12
        ross 12  teri 12  tim 12  tricia 12  ursula 12  winston 12  agnes 11  alison 11
        allison 11  bridget 11  candy 11  cherie 11  curtis 11  dave 11  delma 11  eliza 11
        evan 11  evelina 11  flavia 11  gene 11  guido 11  issac 11  jana 11  janelle 11
        jasmin 11  jeanne 11  junior 11  kerry 11  krystal 11  maryann 11  melisa 11  shelly 11
        suzette 11  teddy 11  trina 11  alberta 10  ali 10  astrid 10  billie 10  carmelita 10
        damon 10  daniella 10  dominique 10  don 10  dustin 10  elliot 10  filomena 10  florence 10
        gayle 10  geoffrey 10  ivy 10  jacinta 10  jannette 10  jodi 10  johnnie 10  juliet 10
        karl 10  kay 10  kenny 10  leila 10  lesly 10  lisbeth 10  lolita 10  lucinda 10
        marian 10  marin 10  melva 10  mia 10  miranda 10  molly 10  nathaniel 10  nelda 10
        phil 10  pierre 10  sal 10  sammy 10  selina 10  shane 10  silvana 10  simone 10
        ted 10  tracey 10  tyrone 10  vince 10  violet 10  wilbert 10
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
