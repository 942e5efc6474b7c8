"""Word lists for the reason classifier, in Swedish, Norwegian and English.

All words are written folded (lower case, å/ä -> a, ö/ø -> o, æ -> ae), the way the
classifier sees every token. ``word*`` matches any word starting with ``word``; ``a_b``
matches the two words ``a b`` in a row (each part may end in ``*``). ``word*`` entries of
five letters or more also match inside Nordic compounds ("ekstragebyrene", "lågprioriterad"),
as a separate, weaker feature.

The lists are features of the trained model, not rules: training decides how much each
list counts. They carry the classifier to words the training corpus does not contain.
"""

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
        okning* okte tillagg tillagget tillaggen tillegg tillegget tilleggene arvode* taxa*
        timpris* timepris* overpris* spara sparar sparer spare_penger spart besparing* betal*
        rimlig* rimelig* urimlig* urimelig* prisvard* prisvaerd* valuta_for* lisenskostn*
        licenskostn* indexuppr* indeksreg* prisgaranti* prismodell* prisniva* prisjuster* skjorta
        skjortan saftig* svider svir ekonomichef* okonomisjef* ekonomiavdelning* okonomiavdeling*
        sparkrav* sparekrav* rad_med har_inte_rad har_ikke_rad forsvara forsvare motivera mervarde*
        merverdi* fornyelsesbelop* fornyelsebelop* gunstig* prisgunstig* debiter* timdebiter* deal
        deals steep overcharged price_point cost_effective costeffective value valuable return_on_*
        affordability renegotiat* commercial_terms retainer hourly day_rate undercut*
        billing_error* charged_twice penalt* licensing_cost* licence_cost* license_cost* rakning*
        rakningen paslag* dagpris* ocker* skyhog* kostnadseffektiv* lonsam* forhandl* regning*
        regningen honorar* dagspris* blodpris* lonnsom* overprise* hojt hojde hojer okt prisnivaet
    """,
    "attention": """
        support* supporting helpdesk* help_desk servicen service_desk servicedesk customer_servic*
        customer_care customer_success customerservice custmer* account_manag* acount*
        accountmanag* manager* rep reps representative* salesperson sales_guy contact contacts
        contacted contacting call call_back called_back calling callback* calls respon* unrespon*
        reply replies replied repl* answer* unanswer* anwser* follow* followup* follow_up* reach*
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
        informerad* informert* oppdatert* mejl* mail* e_post* epost* telefon* telefonko* ko koen
        kon tag_pa tak_i na_nagon na_noen personlig* sedda besok* platsbesok* tystnad* tystnaden
        stillhet* stillheten hjalp* hjelp* helpdesken* arende* supportarende* supportsak* eskaler*
        proaktiv* engagemang* engasjement* relation* relasjon* kontinuitet* jaga mase tappades_bort
        bortprioriter* ingen_horde ingen_hor ingen_svar* ingen_ringer ingen_ringte ingen_ringde
        ingen_tok ingen_tar ingen_brydde ingen_follow* noll_uppfolj* null_oppfolg* null_kontakt
        spelade_roll betydde_noe hjalpsam* hjelpsom* umulig_a_na tyst tyst_fran stille quiet
        vantade vantat vanta vantar venta ventet ventede venter kvartalsmot* quarterly
        business_review* qbr* meeting meetings mote moten motet moter motene motena unresponsive
        response_time* reach_out reached_out get_hold got_hold hold_of overlooked unvalued
        not_valued didnt_care small_customer handover hand_over introduced knowledgeable sla
        forsummad* forsumma* forsomt* forsomte bemotande* intresse* interesse* lyhord* lydhor*
        rostbrevlad* telefonsvarer* overlamning* overlevering* tillganglig* otillganglig*
        tilgjengelig* utilgjengelig* henvendelse* forfragning* arenden kundmote* kundmoter*
        servicedesk* ignorert* ignorerade ignorerad glemt_bort
    """,
    "product": """
        product* bug bugs buggy bugg* crash* downtime* outage* down uptime feature* functionalit*
        function* quality qualit* reliab* unreliab* stable stabil* unstable instab* perform*
        integrat* api apis sync* synch* usab* user_friendly userfriendly interface* ui ux app apps
        software* sofware platform* system* tool tools tooling module* dashboard* report reports
        reporting broken break* breaks breaking broke defect* damaged damage* faulty fault* wrong
        error* glitch* fail* failure* leak* jam jams jammed install* update* upgrade* version*
        login* log_in logs_us logged_out sign_on mobile coverage network* signal* connection*
        connectivity speed laggy lag lags clunky complicated confusing intuitive easy_to_use works
        working worked doesnt_work didnt_work not_working delivered_wrong deliveries delivery
        mislabel* shipped shipping_wrong sku* parts spare_parts goods items pallets bearings hoses
        machine* printer* toner* uniforms staff_were temp_staff temps cleaning cleaners guards food
        canteen workers consultants_delivered lead_time* out_of_stock stock secur* compliance sso
        automat* workflow* customi* export* import* search loads loading lifetime freez* froze
        frozen late incomplete order orders qualified unqualified incompetent sloppy server*
        scanner* skann* training trained untrained utbildning* opplaering* opplaert* produkt*
        krasch* krasj* driftstopp* driftsstans* driftstorning* driftsstorning* driftsforstyrr*
        driftforstyrr* driftsakerhet* driftssikkerhet* avbrott* avbrudd* driftsavbrudd* nedetid*
        nere nede funktion* funksjon* funktionalitet* kvalit* kvalitet* palitl* palitel* instabil*
        ustabil* prestanda* ytelse* integration* integrasjon* appen appar appene applikation*
        applikasjon* mjukvar* programvar* program* plattform* verktyg* verktoy* modul* rapport
        rapporten rapporter rapporterna rapportene rapportmodul* rapportfunk* dashbord* granssnitt*
        grensesnitt* trasig* sonder odelagt* odelagd* odela odelegg* forstor* i_stykker skadad*
        skadade skadet* skadd* felleverans* feilleveranse* fel feil felet feilen strul* strular
        tull* tuller krangl* tungvint* leverans* leveranse* leverering* levering* uppdater*
        oppdater* inlogg* innlogg* tackning* dekning* natet nettet natverk* nettverk* fiber*
        sokfunktion* soket sokningen lagret lagren lageret lagrene reservdel* reservedel* varor*
        varene varer artikl* maskin* skrivare* skriver* arbetsklad* arbeidsklaer* stadning*
        stadningen stadare* renhold* vaktar* vekter* mat maten kantin* personalmatsal* inhyrd*
        vikar* konsulternas anpass* tilpass* eksport* automatiser* automatisering* sakerhet*
        sikkerhet* flode flodet flyt flyten arbetsflod* arbeidsflyt* versjon* fungerar_inte
        fungerer_ikke funkar_inte virker_ikke hanger_sig henger_seg kompetens* kompetanse* slarv*
        slurv* bestallning* bestilling* forsenad* forsinke* ofullstandig* ufullstendig* sena defect
        defects glitches crashes crashed crashing instability stability usability user_experience
        release releases compatib* data migration_failed backorder* shipments shipment delays
        delayed lead_times equipment device devices hardware router* servers materials material
        maintenance technician* technicians defekt* haveri* havari* prestanda anvandarvanlig*
        brukervennlig* uppdatering* oppdatering* uppgradering* oppgradering* installation*
        installasjon* sandning* sendinger sending forsening* forsinkelse* forsinket* ledtid*
        leveringstid* restnot* restordre* utsolgt* uppkoppling* forbindelse* hardvar* maskinvar*
        utrustning* utstyr* enhet* enheter enhetene materiel* materiell* tekniker* teknikern*
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
        slo_sammen slo_oss_sammen gick_samman konkurs* rekonstruktion* rekonstruksjon* avveckl*
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
