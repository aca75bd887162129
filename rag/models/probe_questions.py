"""Generic questions per language whose mean embedding is a language's typical question (rag.models.hubness)."""

from __future__ import annotations

PROBE_QUESTIONS: dict[str, tuple[str, ...]] = {
    "en": (
        # United Nations bodies and meetings
        "I am preparing a short presentation for my school on the United Nations, so could you explain "
        "how decisions are made in the Security Council and why five countries have the right of veto?",
        "Who chairs the committee meetings during the current session?",
        "How many member States voted in favour of the resolution?",
        "When will the General Assembly resume its debate on the budget?",
        "What did the Secretary-General say in his opening statement about the financial situation "
        "of the Organization?",
        "List the main organs of the United Nations.",
        "Which delegation asked for the vote to be postponed?",
        # Disarmament
        "What are the main obligations of States under the Non-Proliferation Treaty?",
        "How many nuclear warheads exist worldwide today?",
        "Why has the nuclear test ban treaty still not entered into force?",
        "What did the delegation say about small arms trafficking across borders?",
        "According to the report, how much did global military spending increase last year?",
        "Is the ban on chemical weapons still respected?",
        "Summarize the arguments for and against a total ban on anti-personnel landmines.",
        # Human rights
        "What rights does the Universal Declaration of Human Rights guarantee?",
        "How can an individual submit a complaint to a treaty body?",
        "What did the special rapporteur say about freedom of expression online?",
        "Which countries have not ratified the Convention on the Rights of the Child?",
        "Are refugees allowed to work in their host country?",
        "According to the report, what measures did the committee recommend to protect migrant workers "
        "from exploitation, and how should States monitor progress?",
        "Why is the death penalty considered a human rights issue?",
        # Development and poverty
        "How many people still live in extreme poverty?",
        "What are the Sustainable Development Goals?",
        "Which region has made the most progress in reducing hunger since 2000?",
        "How does microfinance help small farmers in rural areas?",
        "According to the report, what share of official development assistance goes to the least "
        "developed countries, and has that share changed over the last decade?",
        "Why do some countries remain poor despite years of economic growth?",
        "List three ways to improve access to clean drinking water in villages.",
        # Health
        "What are the early symptoms of malaria?",
        "How is tuberculosis transmitted?",
        "When should a baby get its first vaccines?",
        "How much does a routine vaccination programme cost per child?",
        "Should I drink more water when I have a fever?",
        "What did the minister say about the shortage of nurses in public hospitals?",
        "Which vitamins are important during pregnancy?",
        # Climate and environment
        "What is the goal of the Paris Agreement?",
        "How much has the global average temperature risen since pre-industrial times?",
        "Why are coral reefs dying?",
        "Which countries emit the most carbon dioxide per person?",
        "Is nuclear power a low-carbon energy source?",
        "My city floods almost every spring now; what practical measures can local authorities take "
        "to cope with heavier rainfall without spending a fortune?",
        "Summarize the main causes of deforestation in tropical regions.",
        # Trade and economy
        "What is the difference between a tariff and a quota?",
        "How does inflation affect people's savings?",
        "Which country exports the most coffee?",
        "What did the central bank say about interest rates this quarter?",
        "Why do exchange rates change from day to day?",
        "How many countries are members of the World Trade Organization?",
        "According to the report, how fast did world trade grow last year?",
        # Law
        "What is the difference between civil law and common law?",
        "Can a foreign national be tried for a crime committed abroad?",
        "How long does it take to register a trademark?",
        "Which court settles legal disputes between States?",
        "What does the principle of non-refoulement mean?",
        "Is a verbal agreement legally binding?",
        "Who appoints the judges of the constitutional court?",
        # Science and technology
        "How does a vaccine train the immune system?",
        "How is artificial intelligence used in farming?",
        "When did humans first land on the Moon?",
        "Why is the sky blue?",
        "How do solar panels turn sunlight into electricity?",
        "What are the risks of storing personal data in the cloud?",
        "Explain in simple terms how a blockchain works.",
        # Education
        "How many children around the world are out of school?",
        "What are the benefits of learning a second language at an early age?",
        "Which universities offer scholarships to students from developing countries?",
        "At what age do children start primary school in Finland?",
        "Why do girls drop out of secondary school more often in some regions?",
        "How can teachers make good use of mobile phones in the classroom?",
        "Is online learning as effective as teaching in a classroom?",
        # History
        "When was the United Nations founded?",
        "Who was the first Secretary-General of the United Nations?",
        "What caused the First World War?",
        "Why did the Berlin Wall fall in 1989?",
        "How did the Silk Road connect Asia and Europe?",
        "Which civilization built Machu Picchu?",
        "Summarize the main stages of the decolonization of Africa.",
        # Geography
        "What is the capital of Australia?",
        "Which river is the longest in the world?",
        "How many countries border Brazil?",
        "Where is Mount Kilimanjaro?",
        "Is Istanbul in Europe or Asia?",
        # Culture and arts
        "Who painted the Mona Lisa?",
        "When is the Lunar New Year celebrated this year?",
        "Which novels by Gabriel García Márquez should I read first?",
        "How does a site get added to the World Heritage List?",
        "What traditional instruments are used in West African music?",
        "Recommend a few classic films from the 1950s.",
        "What is the most widely spoken language in the world?",
        # Sport
        "Which country has won the most football World Cups?",
        "How often are the Olympic Games held?",
        "What are the basic rules of cricket?",
        "Who holds the world record for the men's 100 metres?",
        "How many players does a basketball team have on the court?",
        # Everyday life
        "How do I renew my passport?",
        "What time do shops close on Sundays in Germany?",
        "How much should I tip at a restaurant in the United States?",
        "What is a quick and healthy recipe for dinner?",
        "Can I bring liquids in my hand luggage?",
        "How can I lower my electricity bill in winter?",
    ),
    "zh": (
        # 联合国机构与会议
        "联合国大会每年什么时候开幕？",
        "安理会常任理事国有哪几个？",
        "秘书长在开幕致辞中谈到了哪些优先事项？",
        "委员会的决议草案最终获得了多少票赞成？",
        "联合国的经费主要来自哪里？",
        "请概述联合国六个主要机关各自的职能。",
        "会员国代表在第五委员会会议上对维和行动经费不足的问题发表了什么意见，有没有提出具体的解决方案？",
        # 裁军
        "《不扩散核武器条约》的三大支柱是什么？",
        "目前世界上有多少个国家拥有核武器？",
        "为什么全面禁止核试验条约至今尚未生效？",
        "根据报告，去年全球军费开支增长了多少？",
        "小武器非法贸易对地区安全有什么影响？",
        "禁止化学武器公约规定了哪些核查机制？",
        "某代表团在发言中对外空军备竞赛表达了什么担忧？",
        # 人权
        "《世界人权宣言》是哪一年通过的？",
        "言论自由可以受到哪些合理限制？",
        "个人如何向条约机构提交申诉？",
        "特别报告员对网络隐私问题提出了哪些建议？",
        "难民在收容国有权合法工作吗？",
        "根据报告，过去一年有多少名记者遭到拘押？",
        "请列出保护儿童权利的主要国际公约。",
        # 发展与减贫
        "全球还有多少人生活在极端贫困中？",
        "可持续发展目标一共有多少个？",
        "小额信贷如何帮助农村妇女摆脱贫困？",
        "为什么一些资源丰富的国家反而长期贫困？",
        "最不发达国家的名单是由谁确定的？",
        "根据报告，官方发展援助占捐助国国民总收入的比例是多少？",
        "怎样才能让偏远山区的孩子喝上干净的水？",
        # 卫生
        "疟疾的早期症状有哪些？",
        "结核病是通过什么途径传播的？",
        "儿童需要接种哪些基本疫苗？",
        "发烧的时候应该多喝水吗？",
        "世界卫生组织总部设在哪个城市？",
        "卫生部长对基层医院护士短缺的问题怎么说？",
        "为什么滥用抗生素会导致耐药性增加？",
        # 气候与环境
        "《巴黎协定》的温控目标是什么？",
        "自工业革命以来全球平均气温上升了多少？",
        "珊瑚礁为什么会大面积白化？",
        "哪些国家的人均碳排放量最高？",
        "核电算不算低碳能源？",
        "请概述热带雨林遭到砍伐的主要原因。",
        "城市应该采取哪些措施来应对越来越频繁的暴雨和内涝？",
        # 贸易与经济
        "关税和配额有什么区别？",
        "什么是通货膨胀？",
        "世界贸易组织有多少个成员？",
        "央行这个季度对利率作出了什么决定？",
        "人民币汇率为什么会每天波动？",
        "根据报告，去年全球货物贸易增长了多少？",
        "哪个国家是世界上最大的咖啡出口国？",
        # 法律
        "大陆法系和英美法系的主要区别是什么？",
        "口头合同在法律上有效吗？",
        "国际法院负责处理哪些类型的争端？",
        "外国人在境外犯罪能否在本国受审？",
        "申请商标注册一般需要多长时间？",
        "什么是不驱回原则？",
        "宪法法院的法官由谁任命？",
        # 科学技术
        "疫苗是怎样让免疫系统产生抵抗力的？",
        "人类第一次登上月球是哪一年？",
        "天空为什么是蓝色的？",
        "太阳能电池板是如何把阳光转化为电能的？",
        "人工智能在农业中有哪些实际应用？",
        "把个人数据存储在云端有哪些风险？",
        "请用通俗的语言解释一下区块链的原理。",
        # 教育
        "全世界有多少儿童没有上学？",
        "孩子从几岁开始学外语比较合适？",
        "为什么有些地区的女孩更容易中途辍学？",
        "哪些大学为发展中国家的学生提供奖学金？",
        "网课的效果和面授课程相比怎么样？",
        "芬兰的孩子一般几岁上小学？",
        "老师在课堂上应该如何合理使用手机？",
        # 历史
        "联合国是哪一年成立的？",
        "第一次世界大战爆发的直接原因是什么？",
        "柏林墙为什么会在1989年倒塌？",
        "丝绸之路是怎样连接亚洲和欧洲的？",
        "郑和下西洋一共到过哪些地方？",
        "请概述非洲国家独立运动的主要历程。",
        "秦始皇统一六国后推行了哪些措施？",
        # 地理
        "澳大利亚的首都是哪座城市？",
        "世界上最长的河流是哪一条？",
        "乞力马扎罗山位于哪个国家？",
        "伊斯坦布尔属于欧洲还是亚洲？",
        "青藏高原的平均海拔是多少？",
        "和巴西接壤的国家有几个？",
        # 文化艺术
        "《蒙娜丽莎》是谁画的？",
        "春节有哪些传统习俗？",
        "一处遗址怎样才能被列入世界遗产名录？",
        "京剧里的生旦净丑分别指什么？",
        "推荐几部适合周末看的经典老电影。",
        "《红楼梦》的作者是谁？",
        # 体育
        "哪个国家赢得世界杯冠军的次数最多？",
        "奥运会多久举办一次？",
        "男子百米世界纪录是谁保持的？",
        "乒乓球比赛一局打到几分？",
        "篮球场上每队同时有几名球员？",
        "马拉松全程是多少公里？",
        # 日常生活
        "护照过期了应该怎么续办？",
        "在美国餐厅吃饭一般给多少小费？",
        "坐飞机可以随身携带液体吗？",
        "怎样才能减少每个月的电费开支？",
        "我下个月要带父母去日本旅游，老人需要提前办理哪些手续，有什么需要特别注意的地方吗？",
    ),
    "fr": (
        # Organes et réunions de l'ONU
        "Quel est le rôle du Conseil économique et social?",
        "Combien de pays siègent au Conseil de sécurité?",
        "Qu'a dit le Secrétaire général sur la situation financière de l'Organisation?",
        "Qui préside l'Assemblée générale cette année?",
        # Désarmement
        "Pourquoi certains États refusent-ils d'adhérer au traité sur l'interdiction des armes nucléaires?",
        "Selon le rapport, combien de mines antipersonnel ont été détruites l'an dernier?",
        "Quelles sont les obligations des États en matière de contrôle des exportations d'armes?",
        # Droits de l'homme
        "Le droit au logement est-il un droit fondamental?",
        "Comment saisir le Comité des droits de l'homme quand on est victime d'une violation?",
        "Qu'a déclaré la rapporteuse spéciale au sujet des conditions de détention des migrants?",
        "Quels pays ont aboli la peine de mort au cours des dix dernières années?",
        # Développement et pauvreté
        "Combien de personnes souffrent de la faim dans le monde aujourd'hui?",
        "Pourquoi l'accès à l'électricité reste-t-il si limité en Afrique subsaharienne?",
        "Citez trois mesures efficaces pour réduire la pauvreté en milieu rural.",
        # Santé
        "Quels sont les symptômes du paludisme chez l'enfant?",
        "Faut-il se faire vacciner contre la grippe chaque année?",
        "Selon le rapport, quelle part du budget national est consacrée à la santé?",
        "Comment le choléra se transmet-il?",
        # Climat et environnement
        "Quel est l'objectif principal de l'Accord de Paris?",
        "Pourquoi les glaciers des Alpes fondent-ils aussi vite?",
        "Quelles énergies renouvelables sont les plus rentables aujourd'hui?",
        "Résumez les principales conséquences de la montée du niveau de la mer pour les petits États "
        "insulaires.",
        # Commerce et économie
        "Qu'est-ce qu'un accord de libre-échange?",
        "Quel a été le taux d'inflation en France l'année dernière?",
        "Que pensent les économistes de la hausse des droits de douane sur l'acier?",
        # Droit
        "Un contrat signé par un mineur est-il valable?",
        "Quelle est la différence entre un délit et un crime en droit français?",
        "Quelles affaires la Cour internationale de Justice peut-elle juger?",
        "Combien de temps faut-il pour obtenir la nationalité par naturalisation?",
        # Sciences et technologies
        "Comment fonctionne un réseau de neurones artificiels?",
        "En quelle année a-t-on découvert la structure de l'ADN?",
        "À quoi sert un accélérateur de particules?",
        # Éducation
        "À quel âge l'école devient-elle obligatoire en France?",
        "Comment aider un enfant qui a des difficultés en lecture?",
        "Combien coûte une année d'études dans une université publique au Canada?",
        # Histoire
        "Quand la Révolution française a-t-elle commencé?",
        "Qui était Toussaint Louverture?",
        "Quelles ont été les causes de la chute de l'Empire romain d'Occident?",
        # Géographie
        "Quel est le plus long fleuve d'Afrique?",
        "Dans quel pays se trouve Tombouctou?",
        "Combien d'habitants compte la région parisienne?",
        # Culture et arts
        "Qui a écrit Les Misérables?",
        "Quels musées faut-il absolument visiter à Paris?",
        "D'où vient la tradition de la galette des rois?",
        # Sport
        "Combien d'étapes compte le Tour de France?",
        "Quel pays a remporté la dernière Coupe du monde de rugby?",
        "Quelles sont les règles de base de la pétanque?",
        # Vie quotidienne
        "Comment renouveler ma carte d'identité?",
        "Quelle est la meilleure façon de garder le pain frais plus longtemps?",
        "Je déménage le mois prochain dans une autre ville : quelles démarches dois-je faire auprès "
        "de la banque, de la mairie et de la caisse d'allocations familiales?",
    ),
    "es": (
        # Órganos y reuniones de las Naciones Unidas
        "¿Cuántos miembros tiene el Consejo de Seguridad?",
        "¿Qué dijo el Secretario General sobre la reforma del sistema de las Naciones Unidas?",
        "¿Cuál es la función de la Quinta Comisión de la Asamblea General?",
        "¿Qué países han ocupado recientemente la presidencia de la Asamblea General?",
        # Desarme
        "¿Qué establece el Tratado de Tlatelolco sobre las armas nucleares en América Latina?",
        "¿Por qué es tan difícil controlar el tráfico ilícito de armas pequeñas?",
        "Según el informe, ¿cuántos ensayos nucleares se han realizado desde 1945?",
        # Derechos humanos
        "¿Qué derechos tienen los pueblos indígenas sobre sus tierras ancestrales?",
        "¿Es la educación gratuita un derecho humano?",
        "¿Qué opinó la relatora especial sobre la violencia contra las mujeres periodistas?",
        "¿Cómo puede una persona denunciar una desaparición forzada ante un organismo internacional?",
        # Desarrollo y pobreza
        "¿Qué porcentaje de la población de América Latina vive en la pobreza?",
        "¿Cómo funcionan los programas de transferencias monetarias condicionadas?",
        "Enumere los principales obstáculos para el desarrollo de las zonas rurales.",
        # Salud
        "¿Cuáles son los síntomas del dengue?",
        "¿Cómo se puede prevenir la diabetes tipo 2?",
        "¿Es seguro vacunarse durante el embarazo?",
        "Según el informe, ¿cuántos médicos hay por cada mil habitantes en el país?",
        # Clima y medio ambiente
        "¿Por qué se está reduciendo la selva amazónica?",
        "¿Qué es el fenómeno de El Niño y cómo afecta a la pesca?",
        "¿Cuánto ha subido el nivel del mar en el último siglo?",
        "¿Qué pueden hacer los ayuntamientos para reducir la contaminación del aire en las grandes ciudades?",
        # Comercio y economía
        "¿Qué productos exporta principalmente Chile?",
        "¿Cómo afecta la subida de los tipos de interés a las hipotecas?",
        "¿Qué es el Mercosur y qué países lo integran?",
        # Derecho
        "¿Cuál es la diferencia entre un delito y una falta?",
        "¿Puede un extranjero ser extraditado por un delito político?",
        "¿Cuánto tiempo tarda un divorcio de mutuo acuerdo?",
        "¿Qué dice la constitución sobre la libertad de prensa?",
        # Ciencia y tecnología
        "¿Cómo funciona un ordenador cuántico?",
        "¿Quién descubrió la penicilina?",
        "¿Para qué sirven los satélites meteorológicos?",
        # Educación
        "¿Cuántos años dura la educación secundaria obligatoria en España?",
        "¿Qué becas existen para estudiar un máster en el extranjero?",
        "¿Por qué tantos estudiantes abandonan la universidad en el primer año?",
        # Historia
        "¿En qué año llegó Cristóbal Colón a América?",
        "¿Quién fue Simón Bolívar y qué países ayudó a independizar?",
        "Resuma las causas de la guerra civil española.",
        # Geografía
        "¿Cuál es la montaña más alta de América?",
        "¿Dónde está el desierto de Atacama?",
        "¿Qué países atraviesa el río Amazonas?",
        # Cultura y artes
        "¿Quién escribió Cien años de soledad?",
        "¿Cómo se celebra el Día de Muertos en México?",
        "¿Qué obras de Goya se pueden ver en el Museo del Prado?",
        # Deporte
        "¿Cuántas veces ha ganado Argentina el Mundial de fútbol?",
        "¿Cuánto dura un partido de baloncesto?",
        "¿Quién tiene más títulos de Roland Garros?",
        # Vida cotidiana
        "¿Cómo renuevo mi pasaporte si vivo fuera del país?",
        "¿Qué puedo cocinar con arroz, huevos y tomates?",
        "Estoy buscando piso en Madrid con un presupuesto ajustado, ¿qué barrios me recomiendan que estén "
        "bien comunicados con el centro y sean seguros por la noche?",
    ),
    "ru": (
        # Органы и заседания ООН
        "Сколько государств являются членами ООН?",
        "Что сказал Генеральный секретарь о финансовом положении Организации?",
        "Какие вопросы рассматривает Третий комитет Генеральной Ассамблеи?",
        "Кто имеет право вето в Совете Безопасности?",
        # Разоружение
        "Почему прекратил действие Договор о ракетах средней и меньшей дальности?",
        "Согласно докладу, сколько ядерных боеголовок находится в состоянии боевой готовности?",
        "Какие меры доверия предлагаются для снижения военной напряжённости?",
        # Права человека
        "Какие права гарантирует Международный пакт о гражданских и политических правах?",
        "Может ли работодатель уволить сотрудника за участие в мирной демонстрации?",
        "Что заявил специальный докладчик о праве на доступ к информации?",
        "Как подать индивидуальную жалобу в договорный орган ООН?",
        # Развитие и бедность
        "Какие страны относятся к наименее развитым?",
        "Почему уровень бедности в сельской местности выше, чем в городах?",
        "Перечислите основные источники финансирования устойчивого развития.",
        # Здравоохранение
        "Какие прививки нужны ребёнку до года?",
        "Как отличить грипп от обычной простуды?",
        "Сколько стоит полис добровольного медицинского страхования?",
        "Согласно докладу, какова средняя продолжительность жизни в регионе?",
        # Климат и окружающая среда
        "Почему тает вечная мерзлота в Сибири?",
        "Какие обязательства взяли на себя страны по Парижскому соглашению?",
        "Как правильно сортировать мусор дома?",
        "Кратко опишите влияние изменения климата на сельское хозяйство.",
        # Торговля и экономика
        "Что такое Всемирная торговая организация и зачем она нужна?",
        "Как курс рубля влияет на цены импортных товаров?",
        "Какой была инфляция в прошлом году?",
        # Право
        "Нужен ли нотариус для оформления договора купли-продажи квартиры?",
        "Чем отличается уголовная ответственность от административной?",
        "Какие споры рассматривает Международный Суд ООН?",
        "Со скольки лет наступает уголовная ответственность?",
        # Наука и технологии
        "Кто запустил первый искусственный спутник Земли?",
        "Как в общих чертах работает нейросеть?",
        "Чем опасны утечки персональных данных?",
        # Образование
        "Как поступить в университет за границей после школы?",
        "Сколько длится обучение в магистратуре?",
        "Какие предметы нужно сдавать на ЕГЭ для поступления на медицинский факультет?",
        # История
        "Когда закончилась Вторая мировая война?",
        "Кто и когда основал Санкт-Петербург?",
        "Каковы были причины распада Советского Союза?",
        # География
        "Какое озеро самое глубокое в мире?",
        "Сколько часовых поясов в России?",
        "Где находится Уральский хребет?",
        # Культура и искусство
        "Кто написал роман «Война и мир»?",
        "Какие спектакли сейчас идут в Большом театре?",
        "Как принято праздновать Масленицу?",
        # Спорт
        "В каком году Москва принимала летние Олимпийские игры?",
        "Сколько хоккеистов одной команды одновременно находится на льду?",
        "Какие виды спорта входят в программу зимних Олимпийских игр?",
        # Повседневная жизнь
        "Как оформить загранпаспорт через Госуслуги?",
        "Что приготовить на ужин из курицы и картошки?",
        "Мы с семьёй планируем летом поехать на машине из Москвы в Казань: где лучше остановиться "
        "на ночлег и сколько примерно займёт дорога?",
    ),
    "ar": (
        # أجهزة الأمم المتحدة واجتماعاتها
        "ما هي الأجهزة الرئيسية للأمم المتحدة؟",
        "كم عدد الدول الأعضاء في مجلس الأمن؟",
        "ماذا قال الأمين العام عن الأزمة المالية التي تواجهها المنظمة؟",
        "متى تبدأ الدورة العادية للجمعية العامة كل عام؟",
        # نزع السلاح
        "ما هي أهداف إنشاء منطقة خالية من الأسلحة النووية في الشرق الأوسط؟",
        "لماذا يصعب التحقق من تدمير الأسلحة الكيميائية؟",
        "وفقاً للتقرير، كم بلغ حجم الإنفاق العسكري العالمي في العام الماضي؟",
        # حقوق الإنسان
        "ما هي الحقوق التي يكفلها العهد الدولي الخاص بالحقوق الاقتصادية والاجتماعية والثقافية؟",
        "هل يحق للاجئ أن يعمل في البلد المضيف؟",
        "ماذا قالت المقررة الخاصة بشأن حماية الصحفيين في مناطق النزاع؟",
        "كيف يمكن تقديم شكوى فردية إلى إحدى هيئات المعاهدات؟",
        # التنمية والفقر
        "كم عدد الأشخاص الذين يعيشون في فقر مدقع حول العالم؟",
        "ما دور المشاريع الصغيرة في خلق فرص عمل للشباب؟",
        "اذكر أهم التحديات التي تواجه التنمية في المناطق الريفية.",
        # الصحة
        "ما هي أعراض مرض السكري من النوع الثاني؟",
        "هل يجب أخذ لقاح الإنفلونزا كل سنة؟",
        "كيف ينتقل التهاب الكبد الوبائي؟",
        "وفقاً للتقرير، ما نسبة الأطفال الذين تلقوا جميع التطعيمات الأساسية؟",
        # المناخ والبيئة
        "ما هي أسباب التصحر في شمال أفريقيا؟",
        "كيف يؤثر ارتفاع درجات الحرارة على الموارد المائية في المنطقة العربية؟",
        "ما الهدف من اتفاق باريس بشأن تغير المناخ؟",
        "لخّص الآثار الرئيسية لتلوث البحر الأبيض المتوسط بالبلاستيك.",
        # التجارة والاقتصاد
        "ما هي أكبر الدول المصدرة للنفط؟",
        "كيف يؤثر التضخم على القدرة الشرائية للمواطنين؟",
        "ما الفرق بين الرسوم الجمركية والحصص؟",
        # القانون
        "هل العقد الشفهي ملزم قانونياً؟",
        "ما هي الجرائم التي تختص بها المحكمة الجنائية الدولية؟",
        "كم تستغرق إجراءات تسجيل شركة جديدة؟",
        "من يعين القضاة في المحكمة الدستورية؟",
        # العلوم والتكنولوجيا
        "كيف تعمل الألواح الشمسية؟",
        "من هو ابن الهيثم وما أهم إنجازاته العلمية؟",
        "ما هي استخدامات الذكاء الاصطناعي في الطب؟",
        # التعليم
        "كيف يمكنني الحصول على منحة دراسية في الخارج؟",
        "لماذا تنخفض نسبة التحاق الفتيات بالتعليم الثانوي في بعض الدول؟",
        "ما هي مزايا التعليم عن بعد وعيوبه؟",
        # التاريخ
        "متى تأسست جامعة الدول العربية؟",
        "ما هي أسباب سقوط الدولة العباسية؟",
        "من بنى أهرامات الجيزة؟",
        # الجغرافيا
        "ما هو أطول نهر في العالم؟",
        "أين تقع مدينة البتراء؟",
        "كم عدد الدول العربية التي تطل على البحر الأحمر؟",
        # الثقافة والفنون
        "من هو مؤلف ثلاثية القاهرة؟",
        "ما هي أشهر الأطباق التقليدية في شهر رمضان؟",
        "ما هي أنواع الخط العربي الأكثر انتشاراً؟",
        # الرياضة
        "متى أقيمت بطولة كأس العالم لكرة القدم في قطر؟",
        "كم عدد اللاعبين في فريق كرة اليد؟",
        "من هو الرياضي العربي الأكثر فوزاً بالميداليات الأولمبية؟",
        # الحياة اليومية
        "كيف أجدد جواز السفر عبر الإنترنت؟",
        "ما أفضل طريقة لتوفير استهلاك الكهرباء في الصيف؟",
        "أنا مسافر إلى إسطنبول الشهر القادم مع عائلتي لمدة أسبوع، فما هي الأماكن التي تنصحون بزيارتها "
        "وكيف نتنقل بين الأحياء بسهولة؟",
    ),
}
