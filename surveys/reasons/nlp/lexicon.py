"""Word lists for the reason classifier, in Swedish, Norwegian and English.

All words are written folded (lower case, å/ä -> a, ö/ø -> o, æ -> ae), the way the
classifier sees every token. ``word*`` matches any word starting with ``word``; ``a_b``
matches the two words ``a b`` in a row (each part may end in ``*``). ``word*`` entries of
five letters or more also match inside Nordic compounds ("ekstragebyrene", "lågprioriterad"),
as a separate, weaker feature.

The lists are features of the trained model, not rules: training decides how much each
list counts. They carry the classifier to words the training corpus does not contain.

The scope lists (``SCOPE_WORDS``) are the cues of ``surveys.reasons.nlp.scope``: negation,
contrast, concession, praise and the phrases that set a topic aside.
"""

import re
from functools import lru_cache
from itertools import compress

from surveys.reasons.nlp.labels import REASONS

REASON_WORDS: dict[str, str] = {
    "price": """
        price* pricing priced pricey pricy pricier overpriced overprice* underpriced cost costs
        costly costing expensiv* expens expense* cheap* justify* justified afford* unafford* fee
        fees charge charges charged charging surcharge* invoice* invoic* billing bill bills billed
        budget* discount* money dollar* euro* kronor kroner kr usd eur quote quoted quotes
        quotation* tender* bid bidder* rate rates ratecard markup* mark_up tariff* subscription*
        licence_fee* license_fee* renewal_price* renewal_amount renewal_quote payment* pay paying
        paid spend spending savings saving save cheaper dearer value_for roi margin* overcharg*
        upcharg* hike* increase* indexation* inflation* premium* competitive_offer better_offer*
        offer offers offered lower_price* total_cost* per_seat per_user per_licen* top_dollar
        added_value $ € £ cents % percent procent prosent finance cfo pris* dyr dyrt dyra dyre
        dyrare dyrere dyrast dyrest svindyr* kostn* kosta* koste* kostar koster kostade kostet
        billig* avgift* gebyr* faktur* rabatt* peng* pengar* budsjett* offert* erbjudande* tilbud
        tilbudet tilbudene anbud* upphandl* prislapp* prisokn* prishojn* hojning* hojd* hojdes
        okning* okte tillagg tillagget tillaggen tillegg tillegget tilleggene arvode* taxa* timpris*
        timepris* overpris* spara sparar sparer spare_penger spart besparing* betal* rimlig*
        rimelig* urimlig* urimelig* prisvard* prisvaerd* valuta_for* lisenskostn* licenskostn*
        indexuppr* indeksreg* prisgaranti* prismodell* prisniva* prisjuster* skjorta skjortan
        saftig* svider svir ekonomichef* okonomisjef* ekonomiavdelning* okonomiavdeling* sparkrav*
        sparekrav* rad_med har_inte_rad har_ikke_rad forsvara forsvare motivera mervarde* merverdi*
        fornyelsesbelop* fornyelsebelop* gunstig* prisgunstig* debiter* timdebiter* deal deals steep
        overcharged price_point cost_effective costeffective value valuable return_on_*
        affordability renegotiat* commercial_terms retainer hourly day_rate undercut* billing_error*
        charged_twice penalt* licensing_cost* licence_cost* license_cost* rakning* rakningen paslag*
        dagpris* ocker* skyhog* kostnadseffektiv* lonsam* forhandl* regning* regningen honorar*
        dagspris* blodpris* lonnsom* overprise* hojt hojde hojer okt prisnivaet licence licences
        license licenses licensing licens licensen licenser licenserna lisens lisensen lisenser
        lisensene licensmodell* lisensmodell* licensavgift* lisensavgift* abonnemang* abonnement*
        rip_off ripoff daylight_robbery highway_robbery a_fortune rena_ranet ranta ikke_rad inte_rad
        ikkje_rad rad_lenger rad_langre rad_med_det
    """,
    "attention": """
        support* supporting helpdesk* help_desk servicen service_desk servicedesk customer_servic*
        customer_care customer_success customerservice custmer* account_manag* acount* accountmanag*
        manager* rep reps representative* salesperson sales_guy contact contacts contacted
        contacting call call_back called_back calling callback* calls respon* unrespon* reply
        replies replied repl* answer* unanswer* anwser* follow* followup* follow_up* reach*
        reachable unreachable ignor* forgot* forget* forgotten neglect* prioriti* prioritiz*
        prioritis* unprioriti* deprioriti* low_priority care cared caring careless listen* listened
        communicat* touch check_in checked_in checking_in email* e_mail* mail mails phone*
        voicemail* ticket* escalat* proactiv* attention relationship* visit* heard hear hearing
        silence silent ghost* abandon* chase* chasing wait waited waiting queue* valued personal
        personally dedicated acknowledg* nobody no_one noone no1 anyone somebody someone disappear*
        onboarding handed_off inbox attentive helpful unhelpful matter mattered kundtjanst*
        kundservice* kundsupport* kundansvar* kundeservice* kundesenter* kundeansvar* kundestotte
        brukerstotte* saljare* saljaren* selger* selgeren* kontakt* kontaktperson* aterkoppl*
        aterkom aterkomma aterkommer aterkommit aterkoppling* uppfolj* oppfolg* folj*_upp folg*_opp
        fulgte_opp foljde_upp tilbakemeld* svar svara svarar svarade svaret svaren svarat svarer
        svarte svartid* svarstid* ventetid* vantetid* besvar* obesvar* ubesvar* ring ringa ringer
        ringde ringt ringte horde hort horer hor hort_av hort_fra hor_av hore bry brydde bryr gadd
        gidder bortglomd* glomd* glemt* glomt* prioriter* nedprioriter* lagprioriter*
        lavt_prioriter* ignorer* oversag* lyssna* lytt* lyttet kommunikation* kommunikasjon*
        informerad* informert* oppdatert* mejl* mail* e_post* epost* telefon* telefonko* ko koen kon
        tag_pa tak_i na_nagon na_noen personlig* sedda besok* platsbesok* tystnad* tystnaden
        stillhet* stillheten hjalp* hjelp* helpdesken* arende* supportarende* supportsak* eskaler*
        proaktiv* engagemang* engasjement* relation* relasjon* kontinuitet* jaga mase tappades_bort
        bortprioriter* ingen_horde ingen_hor ingen_svar* ingen_ringer ingen_ringte ingen_ringde
        ingen_tok ingen_tar ingen_brydde ingen_follow* noll_uppfolj* null_oppfolg* null_kontakt
        spelade_roll betydde_noe hjalpsam* hjelpsom* umulig_a_na tyst tyst_fran stille quiet vantade
        vantat vanta vantar venta ventet ventede venter kvartalsmot* quarterly business_review* qbr*
        meeting meetings mote moten motet moter motene motena unresponsive response_time* reach_out
        reached_out get_hold got_hold hold_of overlooked unvalued not_valued didnt_care
        small_customer handover hand_over introduced knowledgeable sla forsummad* forsumma* forsomt*
        forsomte bemotande* intresse* interesse* lyhord* lydhor* rostbrevlad* telefonsvarer*
        overlamning* overlevering* tillganglig* otillganglig* tilgjengelig* utilgjengelig*
        henvendelse* forfragning* arenden kundmote* kundmoter* servicedesk* ignorert* ignorerade
        ignorerad glemt_bort out_of_sight out_of_mind lights_are_on nobodys_home nobody_home
        no_one_home noone_home into_the_void into_a_void brick_wall talking_to_a_wall talk_to_a_wall
        just_a_number only_a_number a_number_to_you just_another_number another_number thin_air
        vanished_into through_the_cracks out_of_the_loop in_the_dark radio_silence crickets
        not_a_peep afterthought bottom_of_the_list bottom_of_the_pile back_burner fend_for
        on_our_own ghosted black_hole left_hanging taken_for_granted took_us_for_granted we_exist
        we_existed didnt_exist invisible like_air ur_syn ur_sinn ur_sinne prata_med_en_vagg
        tala_med_en_vagg som_en_vagg ett_nummer ett_i_mangden upp_i_rok som_luft luft_for
        ingen_ar_hemma ingen_hemma det_lyser_men mellan_stolarna svart_hal inte_ett_pip tystnad*
        at_vart_ode i_morkret sist_i_kon langst_ner_pa_listan for_givna att_vi_fanns att_vi_finns
        inte_fanns osynlig* ute_av_oye ute_av_sinn snakke_til_en_vegg snakke_med_en_vegg som_en_vegg
        et_nummer en_i_mengden dugg_for_solen som_dugg ingen_er_hjemme lyset_er_pa mellom_to_stoler
        sort_hull ikke_et_pip stillhet* overlatt_til i_morket bakerst_i_koen nederst_pa_lista
        for_gitt at_vi_fantes at_vi_finnes ikke_fantes usynlig* into_the_wind to_the_wind deaf_ears
        left_on_read face_of_the_earth off_the_radar ghost_town at_the_wheel minding_the_store
        pulling_teeth waiting_for_godot deafening not_a_word pin_drop in_the_cold second_class
        small_fish small_fry totem_pole lost_in_the_shuffle under_the_rug faceless tomma_intet
        ropa_i_oknen dova_oron dovorat vid_rodret andra_klassens liten_fisk i_sticket i_kylan
        inte_ett_ljud inte_ett_knyst huvudet_i_vaggen lose_luften lose_lufta dove_orer dovt_ore
        ved_roret annenrangs i_stikken ikke_en_lyd til_veggen radiostille radiotaushet taushet*
        forsvann forsvunnit forsvant forsvunnet forsvinner forsvinn
    """,
    "product": """
        product* bug bugs buggy bugg* crash* downtime* outage* down uptime feature* functionalit*
        function* quality qualit* reliab* unreliab* stable stabil* unstable instab* perform*
        integrat* api apis sync* synch* usab* user_friendly userfriendly interface* ui ux app apps
        software* sofware synk* platform* system* tool tools tooling module* dashboard* report
        reports reporting broken break* breaks breaking broke defect* damaged damage* faulty fault*
        wrong error* glitch* fail* failure* leak* jam jams jammed install* update* upgrade* version*
        login* log_in logs_us logged_out sign_on mobile coverage network* signal* connection*
        connectivity speed laggy lag lags clunky complicated confusing intuitive easy_to_use works
        working worked doesnt_work didnt_work not_working did_not_work does_not_work do_not_work fix
        fixes bugfix* hotfix* patch* delivered_wrong deliveries delivery mislabel* shipped
        shipping_wrong sku* parts spare_parts goods items pallets bearings hoses machine* printer*
        toner* uniforms staff_were temp_staff temps cleaning cleaners guards food canteen workers
        consultants_delivered lead_time* out_of_stock stock secur* compliance sso automat* workflow*
        customi* export* import* search loads loading lifetime freez* froze frozen late incomplete
        order orders qualified unqualified incompetent sloppy server* scanner* skann* training
        trained untrained utbildning* opplaering* opplaert* produkt* krasch* krasj* driftstopp*
        driftsstans* driftstorning* driftsstorning* driftsforstyrr* driftforstyrr* driftsakerhet*
        driftssikkerhet* avbrott* avbrudd* driftsavbrudd* nedetid* nere nede funktion* funksjon*
        funktionalitet* kvalit* kvalitet* palitl* palitel* instabil* ustabil* prestanda* ytelse*
        integration* integrasjon* appen appar appene applikation* applikasjon* mjukvar* programvar*
        program* plattform* verktyg* verktoy* modul* rapport rapporten rapporter rapporterna
        rapportene rapportmodul* rapportfunk* rapportering* dashbord* granssnitt* grensesnitt*
        trasig* sonder odelagt* odelagd* odela odelegg* forstor* i_stykker skadad* skadade skadet*
        skadd* felleverans* feilleveranse* fel feil felet feilen strul* strular tull* tuller krangl*
        tungvint* leverans* leveranse* leverering* levering* uppdater* oppdater* inlogg* innlogg*
        tackning* dekning* natet nettet natverk* nettverk* fiber* sokfunktion* soket sokningen
        lagret lagren lageret lagrene reservdel* reservedel* varor* varene varer artikl* maskin*
        skrivare* skriver* arbetsklad* arbeidsklaer* stadning* stadningen stadare* renhold* vaktar*
        vekter* mat maten kantin* personalmatsal* inhyrd* vikar* konsulternas anpass* tilpass*
        eksport* automatiser* automatisering* sakerhet* sikkerhet* flode flodet flyt flyten
        arbetsflod* arbeidsflyt* versjon* fungerar_inte fungerade_inte fungerer_ikke fungerte_ikke
        funkar_inte virker_ikke virket_ikke hanger_sig henger_seg kompetens* kompetanse* slarv*
        slurv* bestallning* bestilling* forsenad* forsinke* ofullstandig* ufullstendig* sena defect
        defects glitches crashes crashed crashing instability stability usability user_experience
        release releases compatib* data migration_failed backorder* shipments shipment delays
        delayed lead_times equipment device devices hardware router* servers materials material
        maintenance technician* technicians defekt* haveri* havari* prestanda anvandarvanlig*
        brukervennlig* uppdatering* oppdatering* uppgradering* oppgradering* installation*
        installasjon* sandning* sendinger sending forsening* forsinkelse* forsinket* ledtid*
        leveringstid* restnot* restordre* utsolgt* uppkoppling* forbindelse* hardvar* maskinvar*
        utrustning* utstyr* enhet* enheter enhetene materiel* materiell* tekniker* teknikern* click
        clicks clicking underpowered underperform* klick* klikk*
    """,
    "other": """
        acquir* acquisition* merg* merger* bankrupt* bankruptcy insolven* administration liquidat*
        receivership wound_down winding_down wind_down closed closing close_down closure shut
        shutdown shutting moved moving relocat* reorgani* reorganis* restructur* project* ended
        ending finished pilot* parent parent_company group_procurement hq headquarters head_office
        mandate* mandated framework* insourc* in_house inhouse outsourc* strateg* owner* ownership
        sold sale retir* ceo board temporary_solution seasonal no_longer not_relevant relevant
        covid pandemic* regulat* legislation* law subsidiar* sister_company consolidat* dissolved
        dissolve entity downsiz* remote business_model changed_strategy left_the_company new_role
        bought_by bought_up abroad uppkop* uppkopt* kopt_upp koptes_upp kjopt_opp kjopt_av oppkjop*
        oppkjopt* fusion* fusjon* fusjonert* sammanslag* sammenslaing* sammenslaa* slog_ihop
        slo_sammen slo_oss_sammen slo_oss_bare_sammen slo_seg_sammen slatt_sammen gick_samman
        ihop konkurs* rekonstruktion* rekonstruksjon* avveckl*
        avvikl* lades_ned lades_ner lagt_ned laggs_ner lagga_ner lagt_ner legges_ned la_ned stangde
        stangt* stengt* stengte flytt* flyttat flyttet omorganis* omstruktur* restrukturer*
        projekt* prosjekt* avslut* avsluttet koncern* konsern* moderbolag* morselskap* huvudkontor*
        hovedkontor* hk ramavtal* rammeavtal* egen_regi eget_hus strategi* agar* agare* eier*
        eiere* salt salda solgt* pension* pensjon* vd vdn daglig_leder tillfallig* midlertidig*
        sasong* sesong* behov behovet behoven behovene aktuellt aktuelt pandemi* lagstiftning*
        regelverk* dotterbolag* datterselskap* kommun* kommunen distans hjemmefra byggde_ett_eget
        bygde_et_eget inriktning* retning* slutar_pa slutter_i bytt_jobb byttet_jobb ny_i_rollen
        utomlands utlandet ledningen ledelsen beslut* beslutning* nothing_to_add no_comment*
        inget_att_tillagga ingen_kommentar* ingen_spesiell* ikke_noe_a_tilfoye
        ingenting_a_legge_til takeover taken_over take_over taken_over_by discontinued wound
        layoffs layoff downsizing contract_ended contract_expired end_of_contract expired trial
        no_need not_needed out_of_scope private_equity no_reason dont_know cant_say all_good
        forvarv* likvidation* likvidasjon* nedlaggning* neddragning* nedbemanning* lopte_ut gikk_ut
        riskkapital* oppkjopsfond* ny_roll ny_rolle behovs_inte lagkrav* lovkrav* obestand*
        overtatt overtok overtagen overtogs tagits_over tatt_over vet_ej vet_ikke ingen_anledning
        ingen_grunn nedleggelse* insolvens* konkursen
    """,
}

# --- Scope: who is complained about ---------------------------------------------------
# The cues ``surveys.reasons.nlp.scope`` reads to tell a complaint from a mention. Same
# notation as above. Unlike the reason words these are rules, not features: they decide
# which clauses' words count at all.

SCOPE_WORDS: dict[str, str] = {
    # Negate what follows: "not the price", "never had an outage".
    "negator": """
        not never dont doesnt didnt isnt wasnt arent werent cant cannot couldnt wont wouldnt
        hasnt havent hadnt aint hardly barely neither nor
        inte ej icke aldrig knappt
        ikke ikkje aldri knapt neppe
    """,
    # "no", "nobody", "ingen": a negating determiner or pronoun.
    "none": """
        no none nothing nobody noone zero without not_a not_one not_a_single
        ingen inget inga ingenting utan noll inte_en inte_ett inte_nagot
        intet uten null ikke_en ikke_et ikke_noe
    """,
    # A new clause that turns against the one before.
    "contrast": """
        but however though although yet whereas until except nevertheless nonetheless
        men dock daremot derimot likval likevel anda tills trots inntil tross
    """,
    # Contrast in several words; only the first starts the new clause.
    "contrast_phrase": """
        on_the_other_hand then_again that_said having_said_that a_andra_sidan
        pa_andra_siden pa_den_andra_siden
    """,
    # Discontent that a negation turns into no complaint: "we're not unhappy with the price".
    "discontent": """
        unhappy dissatisfied displeased upset bothered concerned worried annoyed
        missnojd* besvarad* bekymrad* irriterad* misfornoyd* misnoyd* bekymret irritert*
    """,
    # "Sure, ..., but": what is conceded before the turn is set aside.
    "concession": """
        sure admittedly granted of_course to_be_fair ill_admit i_admit i_will_admit
        i_must_admit i_have_to_admit fair_enough agreed true_enough okay_so certainly
        visst javisst forvisso visserligen sjalvklart givetvis i_och_for_sig for_all_del
        jag_ska_erkanna jag_erkanner jag_maste_erkanna det_stammer_att det_ar_sant_att
        riktignok jada joda selvsagt selvfolgelig greit_nok skal_innromme ma_innromme
        innrommer det_stemmer_at det_er_sant_at i_og_for_seg
    """,
    # Concessions that need a comma after them to be one: "Yes, the price is high, but".
    "concession_comma": "yes yeah true ja jo jovisst",
    # Concessions inside a clause: "the tool may be dated, but".
    "concession_inside": """
        may_be might_be can_be could_be_that kan_vara ma_vara kan_vaere ma_vaere
        det_skal_de_ha det_ska_de_ha det_skal_dere_ha
    """,
    # A topic is set aside by what is said of it: "no complaints", "not the reason".
    "set_aside": """
        nothing_wrong nothing_against no_objection* nothing_to_do_with nothing_bad dont_mind
        do_not_mind didnt_mind did_not_mind not_bothered cant_complain cannot_complain
        couldnt_complain no_reason_to_complain not_why not_the_reason wasnt_the_reason
        werent_the_reason isnt_the_reason arent_the_reason not_the_problem not_the_issue
        isnt_the_problem isnt_the_issue wasnt_the_problem wasnt_the_issue never_the_problem
        never_the_issue was_fine_with were_fine_with aside not_a_factor no_factor neither nor
        inget_fel inga_fel ingenting_fel inget_emot ingenting_emot inte_emot inget_att_klaga
        inget_att_anmarka ingenting_att_klaga kan_inte_klaga inte_anledningen inte_darfor
        inte_skalet inte_problemet aldrig_problemet ingen_faktor varken inte_orsaken
        ingenting_emot_mot inget_ont_om ikke_noe_galt ingenting_galt ingenting_imot ikke_noe_imot
        ingenting_a_klage ikke_noe_a_klage kan_ikke_klage ikke_grunnen ikke_derfor ikke_arsaken
        ikke_problemet aldri_problemet ikke_noe_a_utsette ingenting_a_utsette verken ingen_faktor
        ingen_klager ingen_problemer ingenting_a_si did_nothing_wrong did_anything_wrong
        didnt_do_anything_wrong gjorde_nagot_fel gjorde_nagonting_fel gjorde_noe_galt
        gjorde_noe_feil are_what_they_are is_what_it_is it_is_what_it_is ar_vad_de_ar ar_som_de_ar
        er_som_de_er er_hva_de_er
    """,
    # What a problem is called: "no problems with", "never had an outage".
    "problem": """
        problem problems issue issues complaint* complain outage* bug bugs crash* downtime error*
        glitch* fault* trouble* hiccup* concern* hassle* problem problemen problemet fel felen
        klagomal* klaga* avbrott* bugg* krasch* driftstopp* strul* bekymmer invandning* anmarka*
        problemer problemene feil feilen klage klager avbrudd* nedetid* krasj* trobbel bekymr*
        innvending* utsette complain* klagade klaget
    """,
    # Words between "no"/"never" and the problem: "never had a single outage".
    "problem_filler": """
        a an any the single one real major big serious significant particular specific
        had have has ever experienced seen noticed got
        nagot nagon nagra nagra enda ett en stora storre stort riktiga allvarliga
        haft hade har sett upplevt markt fatt
        noe noen nogen eneste et ei store storre alvorlige virkelige hatt hadde har sett
        opplevd merket fatt
    """,
    # Praise: a clause that only praises a topic is set aside beside a complaint.
    "praise": """
        good great fine ok okay nice lovely friendly helpful responsive quick quickly smooth
        smoothly solid stable reliable excellent brilliant superb fantastic amazing awesome perfect
        decent reasonable fair competitive affordable acceptable happy satisfied pleased love loved
        enjoy* impressive professional knowledgeable attentive polite kind pleasant wonderful
        outstanding easy intuitive works worked working star gem spot_on top_notch first_class
        rock_solid well_built no_complaints does_the_job does_what_it_says does_what_it_should
        always_there always_available value_for_money good_value worth_it worth_every terrific
        stellar exceptional efficient prompt promptly courteous accommodating flexible first_rate
        top_class god gott goda lysande fenomenal* jattefin* gode godt glimrende fabelaktig*
        kjempefin* bra fin fint fina okej trevlig* hjalpsam* lyhord* snabb snabba snabbt smidig*
        stabil stjarna guld stabila stabilt palitlig* utmarkt* rimlig rimligt rimliga schysst*
        vettig* prisvard* konkurrenskraftig* nojd nojda gillar gillade alskar alskade grym grymt
        grymma kanon* suveran* fantastisk* underbar* perfekt* proffsig* professionell* kunnig* latt
        funkar fungerar fungerade strålande stralande klockren* duktig* tillmotesgaende toppen topp
        godkand* gor_vad_den_ska gor_det_den_ska gor_det_det_ska gor_jobbet alltid_dar hyggelig*
        hjelpsom* lydhor* rask raske raskt kjapp* stabile palitelig* utmerket rimelig rimelige
        prisgunstig* konkurransedyktig* fornoyd* liker likte elsker elsket stjerne gull super supert
        flott* perfekt* profesjonell* dyktig* kunnskapsrik* lett fungerer fungerte virker grei greit
        greie knallbra imotekommende gjor_det_den_skal gjor_det_det_skal gjor_jobben alltid_der
        verdt_det verdt_pengene vart_det vart_pengarna worth_the_money honest honestly aerlig
        aerlige aerligt arlig arliga arligt satte_pris_pa setter_pris_pa satter_pris_pa appreciated
        uppskattade
    """,
    # Praise of a compound: "jättetrevlig", "kjempegrei", "superbra".
    "praise_prefix": "jatte kjempe super mega skit kanon knall drit topp",
    # Words that make a clause a complaint, whatever praise it holds.
    "complaint": """
        bad worse worst poor poorly terrible awful horrible absurd ridiculous outrageous insane
        crazy useless broken slow slower unstable unreliable unacceptable disappoint* frustrat*
        annoy* nonexistent non_existent too overpriced expensive pricey steep shame pity
        unfortunately sadly lacking missing lacks lack mediocre subpar weak clunky confusing buggy
        late lousy shocking rubbish dreadful appalling abysmal laughable joke nightmare disaster
        mess painful impossible hopeless meh good_luck could_be_better leaves_a_lot so_so
        hit_and_miss nil nada rip_off ripoff went_up gone_up increase* rose risen hike* doubled
        tripled jumped crash* fail* froze freez* forgot* ignor* neglect* higher dearer raised raise
        rising climb* steeper more_expensive hogre dyrare stigit stiger steg hoyere dyrere steget
        stiger dalig dalig* samre samst usel usla uselt urusel absurd* lojlig* galen galet galna
        vansinn* vardelos* hemsk* fruktansvard* katastrof* trasig* sonder segt sega langsam*
        instabil* oacceptab* besvik* frustrer* irriter* obefintlig* alltfor overpris* dyr dyrt dyra
        orimlig* synd tyvarr saknas saknar bristfallig* kass kasst skandal* skamt mardrom* haplos*
        omojlig* krangl* rorig* sadar kunde_vara_battre lamnar_mycket gick_upp hojdes hojning* okade
        okning* dubbl* fordubbl* kraschar glomd* glomt* bortglomd* darlig* darligere verst elendig*
        latterlig* gal galt gale vanvittig* ubrukelig* forferdelig* odelagt* i_stykker treg*
        ustabil* uakseptab* skuff* ikkeeksisterende altfor dyre urimelig* dessverre mangler manglet
        mangelfull* kjip* spok mareritt umulig* tungvint* rotete sann_passe kunne_vaert_bedre
        kunne_vart_bedre gikk_opp okte okning* doblet steg krasjer krasjet glemt* glemte removed
        dropped took_away taken_away tog_bort togs_bort borttagen* fjernet fjernes tok_bort
        tatt_bort out_of_date outdated dated old_fashioned clumsy foraldrad* gammalmodig* utdatert*
        gammeldags klonete klumpig*
    """,
    # Praise of a competitor is no praise of us: "the other vendor was cheaper and nicer".
    "competitor": """
        competitor* other_vendor* another_vendor other_supplier* another_supplier elsewhere
        alternative* rival* others
        konkurrent* annan_leverantor andra_leverantorer andra_leverantor* alternativ*
        annen_leverandor andre_leverandorer andre_leverandor* andra annen andre
    """,
    # The customer as the one who acts: "we called three other vendors".
    "customer": "we i vi jag jeg",
    # Reaching someone: by the customer a mention, not a complaint.
    "contact_verb": """
        called phoned rang emailed mailed wrote answered replied contacted asked messaged
        ringde mejlade mailade skrev svarade kontaktade fragade
        ringte mailet sendte svarte kontaktet spurte
    """,
    # Passing on news: who says it is a messenger, not the complaint ("support confirmed it
    # is a known bug", "selgeren fortalte at prisen skulle økes").
    "report_verb": """
        told said explained confirmed informed mentioned says tells explains confirms
        walked_us_through let_us_know berattade sade forklarade bekraftade informerade meddelade
        namnde uppgav gick_igenom fortalte forklarte bekreftet informerte meldte nevnte opplyste
        gikk_gjennom sent sends skickade skickar skickat sendte sender
    """,
    # Using, needing: "features we don't use" is a price complaint, not a product one.
    "usage": """
        use uses used using need needs needed anvander anvande anvant behover behovde
        behovt bruker brukte brukt trenger trengte trengt
    """,
    # Words that join two complaints inside a clause: "it crashes and nobody answers".
    "conjunction": "and plus also och samt plus aven og pluss ogsa",
}

STOPWORDS = frozenset(
    "the a an and or but to of in on at for with from by about is are was were be been it "
    "its this that we us our you your they them their i me my he she not no so too very "
    "just then than there here has have had do does did will would can could och att det "
    "som en ett ar var inte jag vi ni de den har hade med for pa av till fran om men sa "
    "kan sen nar bara er era oss vart vara mig sig og et ikke dere fra til da na seg meg "
    "deres vare ble blev e also ocksa ogsa heller".split()
)


# --- Matching ---------------------------------------------------------------------------


class WordList:
    """One word list: exact words, prefixes and word sequences, all folded."""

    def __init__(self, words: str, inside: bool = False) -> None:
        exact: set[str] = set()
        prefixes: list[str] = []
        self.sequences: list[tuple[_Part, ...]] = []
        for entry in words.split():
            parts = entry.replace("-", "_").split("_")
            if len(parts) > 1:
                self.sequences.append(tuple(_part_matcher(part) for part in parts if part))
            elif entry.endswith("*"):
                prefixes.append(entry[:-1])
            else:
                exact.add(entry)
        self.exact = frozenset(exact)
        self.prefix = (
            re.compile("|".join(re.escape(prefix) for prefix in sorted(prefixes)))
            if prefixes
            else None
        )
        # Inside a compound: "ekstragebyrene", "lågprioriterad", "ekonomisystemet".
        infixes = [prefix for prefix in sorted(prefixes) if len(prefix) >= 4] if inside else []
        self.infix = (
            re.compile("|".join(f"(?<=..){re.escape(prefix)}" for prefix in infixes))
            if infixes
            else None
        )

    def matches(self, word: str) -> bool:
        if word in self.exact:
            return True
        if self.prefix is None:
            return False
        if self.prefix.match(word) is not None:
            return True
        # A negated word: "opålitlig", "ustabil", "unaffordable" are about the same topic.
        if len(word) > 6 and word[0] in "ou" and self.prefix.match(word, 1):
            return True
        return len(word) > 7 and word.startswith("un") and self.prefix.match(word, 2) is not None

    def matches_exactly(self, word: str) -> bool:
        """The word itself is on the list (no negated forms)."""
        if word in self.exact:
            return True
        return self.prefix is not None and self.prefix.match(word) is not None

    def matches_inside(self, word: str) -> bool:
        return (
            self.infix is not None
            and self.infix.search(word) is not None
            and not _NOT_COMPOUNDS.match(word)
        )


# English words that only look like compounds of listed words ("sur-prise").
_NOT_COMPOUNDS = re.compile(r"surpris|enterpris|compris|apprais|comprom|unsupport")


class _Part:
    """One word of a listed word sequence: the word itself, or a prefix ("word*")."""

    __slots__ = ("text", "prefix")

    def __init__(self, part: str) -> None:
        self.prefix = part.endswith("*")
        self.text = part[:-1] if self.prefix else part

    def __call__(self, word: str) -> bool:
        return word.startswith(self.text) if self.prefix else word == self.text


def _part_matcher(part: str) -> _Part:
    return _Part(part)


_REASON_LISTS = {reason: WordList(words, inside=True) for reason, words in REASON_WORDS.items()}
SCOPE_LISTS = {name: WordList(words) for name, words in SCOPE_WORDS.items()}
# Lists the scope rules look up where they need them, rather than tagging every text's words
# with them: they hold common words ("we", "andra", "use") and matter in few texts.
LOOKED_UP = frozenset(("customer", "competitor", "usage"))


@lru_cache(maxsize=65536)
def word_reasons(folded: str) -> tuple[str, ...]:
    """The reasons whose word list holds this (folded) word."""
    return tuple(reason for reason in REASONS if _REASON_LISTS[reason].matches(folded))


@lru_cache(maxsize=65536)
def compound_reasons(folded: str) -> tuple[str, ...]:
    """The reasons whose word list holds a part inside this compound word (and not the
    whole word)."""
    whole = word_reasons(folded)
    return tuple(
        reason
        for reason in REASONS
        if reason not in whole and _REASON_LISTS[reason].matches_inside(folded)
    )


@lru_cache(maxsize=65536)
def on_list(name: str, folded: str) -> bool:
    """The (folded) word is on the scope list ``name`` as a single word."""
    return SCOPE_LISTS[name].matches_exactly(folded)


@lru_cache(maxsize=65536)
def word_topics(folded: str) -> frozenset[str]:
    """The reasons a (folded) word names, whole or inside a compound."""
    return frozenset((*word_reasons(folded), *compound_reasons(folded)))


@lru_cache(maxsize=65536)
def scope_words(folded: str) -> frozenset[str]:
    """The scope lists (``SCOPE_WORDS``) that hold this word as a single word."""
    names = {
        name
        for name, words in SCOPE_LISTS.items()
        if name not in LOOKED_UP and words.matches_exactly(folded)
    }
    # "jättetrevlig", "kjempegrei": praise or complaint behind an intensifier.
    if "praise" not in names and "complaint" not in names and len(folded) > 6:
        for prefix in SCOPE_LISTS["praise_prefix"].exact:
            rest = folded[len(prefix) :]
            if folded.startswith(prefix) and len(rest) >= 2:
                names.update(
                    name
                    for name in ("praise", "complaint")
                    if SCOPE_LISTS[name].matches_exactly(rest)
                )
    names.discard("praise_prefix")
    return frozenset(names)


Sequence = tuple[_Part, ...]
_SEQUENCES: list[tuple[str, Sequence]] = [
    *((reason, sequence) for reason in REASONS for sequence in _REASON_LISTS[reason].sequences),
    *((name, sequence) for name, words in SCOPE_LISTS.items() for sequence in words.sequences),
]


# The sequences by their first word, and those whose first word is a prefix.
_BY_FIRST: dict[str, list[int]] = {}
_PREFIX_FIRST: list[int] = []
for _number, (_, _sequence) in enumerate(_SEQUENCES):
    if _sequence[0].prefix:
        _PREFIX_FIRST.append(_number)
    else:
        _BY_FIRST.setdefault(_sequence[0].text, []).append(_number)


@lru_cache(maxsize=65536)
def _sequences_starting(word: str) -> tuple[int, ...]:
    numbers = [*_BY_FIRST.get(word, ()), *(n for n in _PREFIX_FIRST if _SEQUENCES[n][1][0](word))]
    return tuple(sorted(numbers))


def sequence_matches(words: "list[str]") -> list[tuple[str, tuple[int, ...]]]:
    """Every listed word sequence in the words: (reason or scope list, positions)."""
    matches = []
    count = len(words)
    found = list(map(_sequences_starting, words))
    for start in compress(range(count), found):
        following = words[start + 1] if start + 1 < count else None
        for number in found[start]:
            name, sequence = _SEQUENCES[number]
            end = start + len(sequence)
            if end > count:
                continue
            second = sequence[1]
            if not second.prefix and second.text != following:
                continue  # most candidates fail on their second word: no call for it
            position = start + 1
            for part in sequence[1:]:
                if not part(words[position]):
                    break
                position += 1
            else:
                matches.append((name, tuple(range(start, end))))
    return matches
